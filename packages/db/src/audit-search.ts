/**
 * Pages of the audit log, newest first, keyset-paginated by id, for any combination of filters.
 *
 * Every filter has an id-ordered index of its events (migration 20261126020000_audit_search):
 * (actor_name, id), (action, id), (result, id), and one posting list per namespace, repository,
 * tag, reference and digest; a time range is an id range. A page first finds its ids from the
 * indexes alone, then reads those rows.
 *  - One filter: its index, read backwards from the cursor: a page of index entries.
 *  - Several: each is counted in the id range, up to PROBE_CAP entries. The smallest is read
 *    entry by entry and every entry checked against the others with one index probe each: with
 *    fewer than PROBE_CAP entries this is bounded whatever the data, clustered in time or not.
 *  - Several, all larger: two or more term lists are joined for the planner to merge; otherwise
 *    the filter sparsest just below the cursor is read and the others checked, for at most
 *    SCAN_BUDGET entries per page (the page then says where to go on).
 */
import { CANONICAL_FIELDS } from "./audit-canonical";
import { InvalidArgumentError } from "@berth/engine";
import { toAuditEvent, type AuditEvent, type AuditRow } from "./audit";
import { findAuditTerms, resolveAuditFilter, type AuditFilter } from "./audit-filter";
import { combinedPlan, drivenIds, parts, PROBE_CAP, SCAN_BUDGET, stoppedAt } from "./audit-search-plan";
import type { AuditTerm } from "./audit-terms";
import type { DbClient } from "./client";
import { Prisma } from "./generated/prisma/client";

export interface ListAuditEventsOptions extends AuditFilter {
  /** The `nextCursor` of the previous page (opaque). */
  cursor?: string | undefined;
  /** Page size, 1–500. */
  limit: number;
}

export interface AuditPage {
  events: AuditEvent[];
  /**
   * Pass back as `cursor` for the next page; null: no more. A page can hold fewer events than
   * asked, even none, while this still goes on (a search among large filters reads a bounded
   * part of the log per page).
   */
  nextCursor: string | null;
}

const MAX_ID = 9_223_372_036_854_775_807n;

const COLUMNS = Prisma.raw([...CANONICAL_FIELDS, "prev_hash", "hash"].map((c) => `x.${c}`).join(", "));

function pageLimit(limit: number): number {
  return Math.min(Math.max(Math.trunc(limit), 1), 500);
}

function parseCursor(cursor: string | undefined): bigint | null {
  if (cursor === undefined) return null;
  if (!/^\d{1,19}$/.test(cursor)) throw new InvalidArgumentError(`invalid audit cursor "${cursor}"`);
  return BigInt(cursor);
}

function toPage(rows: AuditRow[], limit: number): AuditPage {
  const events = rows.slice(0, limit).map(toAuditEvent);
  const last = events.at(-1);
  return { events, nextCursor: rows.length > limit && last ? String(last.id) : null };
}

async function rowsFor(db: DbClient, ids: Prisma.Sql): Promise<AuditRow[]> {
  return db.$queryRaw<AuditRow[]>`
    WITH page AS MATERIALIZED (${ids})
    SELECT ${COLUMNS} FROM page JOIN audit_events x ON x.id = page.id ORDER BY x.id DESC`;
}

/** A page of events matching every filter given, newest first. `tuning` exists for tests: both strategies run on small logs. */
export async function listAuditEvents(
  db: DbClient,
  options: ListAuditEventsOptions,
  tuning: { probeCap?: number; scanBudget?: number } = {},
): Promise<AuditPage> {
  const cap = tuning.probeCap ?? PROBE_CAP;
  const budget = tuning.scanBudget ?? SCAN_BUDGET;
  const limit = pageLimit(options.limit);
  const cursor = parseCursor(options.cursor);
  const filter = await resolveAuditFilter(db, options);
  if (!filter) return { events: [], nextCursor: null };
  const bounds = { lo: filter.lo ?? 0n, hi: [filter.hi, cursor].reduce<bigint>((min, v) => (v !== null && v < min ? v : min), MAX_ID) };
  if (bounds.lo >= bounds.hi) return { events: [], nextCursor: null };
  const list = parts(filter);
  const take = limit + 1;
  if (list.length === 0) {
    return toPage(
      await db.$queryRaw<AuditRow[]>`
        SELECT ${COLUMNS} FROM audit_events x WHERE x.id >= ${bounds.lo} AND x.id < ${bounds.hi} ORDER BY x.id DESC LIMIT ${take}`,
      limit,
    );
  }
  const plan = list.length === 1 ? { ids: drivenIds(list[0]!, [], bounds, take) } : await combinedPlan(db, list, bounds, take, cap, budget);
  if (!plan) return { events: [], nextCursor: null };
  const page = toPage(await rowsFor(db, plan.ids), limit);
  if (page.nextCursor === null && plan.budgeted) {
    // The scan may have stopped before the end of the range: the next page goes on from there.
    const stopped = await stoppedAt(db, plan.budgeted.driver, bounds, plan.budgeted.budget);
    if (stopped !== null) page.nextCursor = String(stopped);
  }
  return page;
}

/** A page of events naming any of `terms` (an image's history: its digests and its tags), newest first. */
export async function listAuditEventsNaming(
  db: DbClient,
  options: { terms: AuditTerm[]; cursor?: string | undefined; limit: number },
): Promise<AuditPage> {
  const limit = pageLimit(options.limit);
  const hi = parseCursor(options.cursor) ?? MAX_ID;
  const ids = (await findAuditTerms(db, options.terms)).filter((id): id is bigint => id !== null);
  if (ids.length === 0) return { events: [], nextCursor: null };
  // Each term's newest events, merged: a page of entries per term.
  const page = Prisma.sql`
    SELECT x.event_id AS id FROM unnest(${ids}::bigint[]) AS t(id)
    CROSS JOIN LATERAL (
      SELECT event_id FROM audit_search_postings
      WHERE term_id = t.id AND event_id < ${hi} ORDER BY event_id DESC LIMIT ${limit + 1}) x
    GROUP BY x.event_id ORDER BY x.event_id DESC LIMIT ${limit + 1}`;
  return toPage(await rowsFor(db, page), limit);
}
