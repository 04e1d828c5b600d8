/**
 * The lines of an audit archive (format: audit-archive.ts), read from the database in chain order.
 * A range is frozen when it is resolved: events appended later are not part of it, so the count
 * and the file's hash recorded in the `audit.archive` event describe exactly the lines written.
 */
import type { DbClient } from "./client";
import { auditIdRange } from "./audit-range";

export interface FrozenAuditRange {
  from: Date | null;
  to: Date | null;
  /** ids [lo, hi). */
  lo: bigint;
  hi: bigint;
}

/** The events of [from, to) that exist now; null when there are none. */
export async function freezeAuditRange(
  db: DbClient,
  range: { from?: Date | undefined; to?: Date | undefined },
): Promise<FrozenAuditRange | null> {
  const ids = await auditIdRange(db, range);
  if (!ids) return null;
  const [last] = await db.$queryRaw<{ id: bigint }[]>`SELECT id FROM audit_events ORDER BY id DESC LIMIT 1`;
  if (!last) return null;
  const hi = ids.hi !== null && ids.hi <= last.id ? ids.hi : last.id + 1n;
  const lo = ids.lo ?? 0n;
  if (lo >= hi) return null;
  return { from: range.from ?? null, to: range.to ?? null, lo, hi };
}

export interface AuditArchiveLine {
  id: bigint;
  prevHash: string | null;
  hash: string;
  /** The JSON line, without its line break. */
  line: string;
}

/** The archive's lines in id order, read in batches (never the whole range in memory). */
export async function* auditArchiveLines(db: DbClient, range: FrozenAuditRange, batch = 1000): AsyncGenerator<AuditArchiveLine> {
  let after = range.lo - 1n;
  for (;;) {
    const rows = await db.$queryRaw<{ id: bigint; prev_hash: string | null; hash: string; line: string }[]>`
      SELECT e.id, e.prev_hash, e.hash,
             (audit_event_canonical(e)::jsonb || jsonb_build_object('prev_hash', e.prev_hash, 'hash', e.hash))::text AS line
      FROM audit_events e
      WHERE e.id > ${after} AND e.id < ${range.hi}
      ORDER BY e.id LIMIT ${batch}`;
    for (const row of rows) yield { id: row.id, prevHash: row.prev_hash, hash: row.hash, line: row.line };
    const last = rows.at(-1);
    if (!last || rows.length < batch) return;
    after = last.id;
  }
}
