/**
 * How a page of a filtered audit search is found (audit-search.ts describes the strategies): the
 * filters as parts with their own id-ordered indexes, counted, then read and checked.
 */
import type { ResolvedAuditFilter } from "./audit-filter";
import type { DbClient } from "./client";
import { Prisma } from "./generated/prisma/client";

/** A filter with fewer events than this in the range is read entry by entry, checking the others. */
export const PROBE_CAP = 20_000;
/** How many ids below the cursor each filter's density is measured over (to order checks, and pick a driver among large filters). */
const NEAR = 100_000n;
/**
 * When every filter is large, a page reads at most this many entries of the driving filter; a page
 * may then hold fewer events than asked while `nextCursor` still goes on (bounded latency even
 * when large filters have little in common).
 */
export const SCAN_BUDGET = 10_000;

/** One filter with its own ordered index: a term's postings, or values of one audit_events column. */
export type Part = { kind: "term"; term: bigint } | { kind: "column"; column: "actor_name" | "action" | "result"; values: string[] };

export interface Bounds {
  lo: bigint | Prisma.Sql;
  hi: bigint | Prisma.Sql;
}

const raw = (alias: string, column: string) => Prisma.raw(`${alias}.${column}`);

export function parts(f: ResolvedAuditFilter): Part[] {
  const out: Part[] = f.terms.map((term) => ({ kind: "term", term }));
  if (f.person !== undefined) out.push({ kind: "column", column: "actor_name", values: [f.person] });
  if (f.actions) out.push({ kind: "column", column: "action", values: f.actions });
  if (f.result !== undefined) out.push({ kind: "column", column: "result", values: [f.result] });
  return out;
}

/** A column part as a condition on `alias`. */
function columnSql(part: Extract<Part, { kind: "column" }>, alias: string): Prisma.Sql {
  const column = raw(alias, part.column);
  return part.values.length === 1 ? Prisma.sql`${column} = ${part.values[0]}` : Prisma.sql`${column} = ANY(${part.values}::text[])`;
}

/** The ids a part stands for, in range, as `SELECT <id> FROM … WHERE …` pieces. */
function source(part: Part, alias: string, b: Bounds): { from: Prisma.Sql; id: Prisma.Sql; where: Prisma.Sql } {
  if (part.kind === "term") {
    const id = raw(alias, "event_id");
    return {
      from: Prisma.sql`audit_search_postings ${Prisma.raw(alias)}`,
      id,
      where: Prisma.sql`${raw(alias, "term_id")} = ${part.term} AND ${id} >= ${b.lo} AND ${id} < ${b.hi}`,
    };
  }
  const id = raw(alias, "id");
  return {
    from: Prisma.sql`audit_events ${Prisma.raw(alias)}`,
    id,
    where: Prisma.sql`${columnSql(part, alias)} AND ${id} >= ${b.lo} AND ${id} < ${b.hi}`,
  };
}

interface Counts {
  /** Entries of each part in the range, counted up to PROBE_CAP. */
  total: number[];
  /** Entries of each part among the NEAR ids just below the cursor (or the newest event), where the page is. */
  near: number[];
}

/** One query, from the parts' indexes alone. */
async function count(db: DbClient, list: Part[], b: Bounds & { lo: bigint; hi: bigint }, cap: number): Promise<Counts> {
  const near = { lo: Prisma.sql`greatest(${b.lo}, top.id - ${NEAR})`, hi: b.hi };
  const counted = (part: Part, bounds: Bounds, max: number, name: string) => {
    const s = source(part, "c", bounds);
    return Prisma.sql`(SELECT count(*) FROM (SELECT 1 FROM ${s.from} WHERE ${s.where} LIMIT ${max}) x) AS ${Prisma.raw(name)}`;
  };
  const columns = list.flatMap((part, i) => [counted(part, b, cap, `t${i}`), counted(part, near, Number(NEAR), `n${i}`)]);
  const [row] = await db.$queryRaw<Record<string, bigint>[]>`
    SELECT ${Prisma.join(columns, ", ")}
    FROM (SELECT coalesce((SELECT id FROM audit_events WHERE id < ${b.hi} ORDER BY id DESC LIMIT 1), 0) AS id) top`;
  return { total: list.map((_, i) => Number(row?.[`t${i}`] ?? 0)), near: list.map((_, i) => Number(row?.[`n${i}`] ?? 0)) };
}

/** Whether event `id` is in `part`: one probe of the part's index (never the table's rows). */
function check(part: Part, id: Prisma.Sql): Prisma.Sql {
  if (part.kind === "term") {
    return Prisma.sql`(SELECT 1 FROM audit_search_postings q WHERE q.term_id = ${part.term} AND q.event_id = ${id}) IS NOT NULL`;
  }
  return Prisma.sql`(SELECT 1 FROM audit_events k WHERE ${columnSql(part, "k")} AND k.id = ${id} LIMIT 1) IS NOT NULL`;
}

/**
 * Ids read from `driver`'s index, newest first, each checked against the other parts. The checks
 * are scalar subqueries, which the planner keeps as per-row probes (an EXISTS could become a join
 * that reads another part whole). With a `budget`, at most that many driver entries are read.
 */
export function drivenIds(driver: Part, others: Part[], b: Bounds, take: number, budget?: number): Prisma.Sql {
  const d = source(driver, "d", b);
  const checks = others.map((p) => check(p, Prisma.raw("s.id")));
  const where = checks.length ? Prisma.sql` WHERE ${Prisma.join(checks, " AND ")}` : Prisma.empty;
  const scan = Prisma.sql`SELECT ${d.id} AS id FROM ${d.from} WHERE ${d.where} ORDER BY ${d.id} DESC${budget ? Prisma.sql` LIMIT ${budget}` : Prisma.empty}`;
  return Prisma.sql`SELECT s.id FROM (${scan}) s${where} ORDER BY s.id DESC LIMIT ${take}`;
}

/** The id of the budget-th entry of the driver: where a budgeted scan stopped, if it did. */
export async function stoppedAt(db: DbClient, driver: Part, b: Bounds, budget: number): Promise<bigint | null> {
  const d = source(driver, "d", b);
  const [row] = await db.$queryRaw<{ id: bigint }[]>`
    SELECT ${d.id} AS id FROM ${d.from} WHERE ${d.where} ORDER BY ${d.id} DESC OFFSET ${budget - 1} LIMIT 1`;
  return row?.id ?? null;
}

/**
 * Ids in every term's postings, the term lists joined for the planner to merge side by side (two
 * large lists with few events in common are read once each, not probed entry by entry); the
 * column parts are checked on the result.
 */
function joinedTermIds(terms: Extract<Part, { kind: "term" }>[], columns: Part[], b: Bounds, take: number): Prisma.Sql {
  const joins = terms.slice(1).map((p, i) => {
    const t = Prisma.raw(`t${i + 1}`);
    return Prisma.sql` JOIN audit_search_postings ${t} ON ${t}.event_id = t0.event_id AND ${t}.term_id = ${p.term}
      AND ${t}.event_id >= ${b.lo} AND ${t}.event_id < ${b.hi}`;
  });
  const checks = columns.length
    ? Prisma.sql` AND ${Prisma.join(
        columns.map((p) => check(p, Prisma.raw("t0.event_id"))),
        " AND ",
      )}`
    : Prisma.empty;
  return Prisma.sql`SELECT t0.event_id AS id FROM audit_search_postings t0${Prisma.join(joins, "")}
    WHERE t0.term_id = ${terms[0]!.term} AND t0.event_id >= ${b.lo} AND t0.event_id < ${b.hi}${checks}
    ORDER BY t0.event_id DESC LIMIT ${take}`;
}

/** What a page is read from: the id query, and for a budgeted scan the driver to resume. */
export interface Plan {
  ids: Prisma.Sql;
  budgeted?: { driver: Part; budget: number };
}

/** The plan for several parts: see the module comment. Checks go sparsest first: most entries fail the first. */
export async function combinedPlan(
  db: DbClient,
  list: Part[],
  b: Bounds & { lo: bigint; hi: bigint },
  take: number,
  cap: number,
  budget: number,
): Promise<Plan | null> {
  const counts = await count(db, list, b, cap);
  if (Math.min(...counts.total) === 0) return null;
  const order = list.map((part, i) => ({ part, total: counts.total[i]!, near: counts.near[i]! }));
  const sparse = (x: { near: number; total: number }, y: { near: number; total: number }) => x.near - y.near || x.total - y.total;
  const least = order.reduce((min, x) => (x.total < min.total ? x : min));
  if (least.total < cap) {
    const others = order.filter((x) => x !== least).sort(sparse);
    return {
      ids: drivenIds(
        least.part,
        others.map((o) => o.part),
        b,
        take,
      ),
    };
  }
  const terms = list.filter((p): p is Extract<Part, { kind: "term" }> => p.kind === "term");
  if (terms.length >= 2) {
    const columns = order.filter((x) => x.part.kind === "column").sort(sparse);
    return {
      ids: joinedTermIds(
        terms,
        columns.map((x) => x.part),
        b,
        take,
      ),
    };
  }
  // Every part is large: read the one sparsest where the page is, for at most a budget of entries.
  const [driver, ...others] = order.sort(sparse);
  return {
    ids: drivenIds(
      driver!.part,
      others.map((o) => o.part),
      b,
      take,
      budget,
    ),
    budgeted: { driver: driver!.part, budget },
  };
}
