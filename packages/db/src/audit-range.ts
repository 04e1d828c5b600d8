import type { DbClient } from "./client";

/** Ids [lo, hi) of audit events; either end may be open. */
export interface AuditIdRange {
  lo: bigint | null;
  hi: bigint | null;
}

/**
 * The ids of the events in a time range [from, to). The chain trigger keeps `at` non-decreasing in
 * id order (migration 20261126020000_audit_search), so the range is the ids from the first event at
 * or after `from` up to the first event at or after `to`; two index probes on `at`. Null when no
 * event can be in the range.
 */
export async function auditIdRange(db: DbClient, range: { from?: Date | undefined; to?: Date | undefined }): Promise<AuditIdRange | null> {
  if (range.from === undefined && range.to === undefined) return { lo: null, hi: null };
  if (range.from && range.to && range.from >= range.to) return null;
  const firstAtOrAfter = (time: Date | undefined) =>
    time === undefined
      ? null
      : db.$queryRaw<{ id: bigint }[]>`
          SELECT id FROM audit_events
          WHERE at = (SELECT min(at) FROM audit_events WHERE at >= ${time})
          ORDER BY id LIMIT 1`.then((rows) => rows[0]?.id ?? null);
  const [lo, hi] = await Promise.all([firstAtOrAfter(range.from), firstAtOrAfter(range.to)]);
  // Nothing at or after `from`: the range is empty.
  if (range.from !== undefined && lo === null) return null;
  if (lo !== null && hi !== null && lo >= hi) return null;
  return { lo, hi };
}
