import { createHash } from "node:crypto";
import { auditArchiveLines, freezeAuditRange, type FrozenAuditRange } from "@berth/db";
import { EngineError } from "@berth/engine";
import type { Context } from "../context";
import { audited, recordFailure } from "../audit/record";

type Ctx = Pick<Context, "services" | "actor" | "request">;

/** What the `audit.archive` event records about the file it describes. */
export interface AuditArchiveSummary {
  from: string | null;
  to: string | null;
  firstId: number | null;
  lastId: number | null;
  count: number;
  /** sha256 hex of the file's bytes. */
  sha256: string;
  /** prev_hash of the first event: the hash of the last event of the archive before it. */
  firstPrevHash: string | null;
  lastHash: string | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * Export-and-archive: the events of [from, to) that exist now, as a verifiable archive
 * (@berth/db audit-archive.ts), streamed. When the last line has been produced, an `audit.archive`
 * event records the range, the count and the sha256 of exactly the bytes sent, before the stream
 * ends: a client that read the whole file finds the event. Events stay in the log (it refuses
 * DELETE); an interrupted or failed archive is recorded as failed.
 */
export async function prepareAuditArchive(ctx: Ctx, range: { from?: Date | undefined; to?: Date | undefined }) {
  const frozen = await freezeAuditRange(ctx.services.db, range);
  if (!frozen)
    throw new EngineError(
      "NOT_FOUND",
      `no audit events${range.from ? ` from ${range.from.toISOString()}` : ""}${range.to ? ` before ${range.to.toISOString()}` : ""}`,
    );
  return { range: frozen, lines: archiveLines(ctx, frozen) };
}

async function* archiveLines(ctx: Ctx, range: FrozenAuditRange): AsyncGenerator<string> {
  const hash = createHash("sha256");
  const summary: AuditArchiveSummary = {
    from: iso(range.from),
    to: iso(range.to),
    firstId: null,
    lastId: null,
    count: 0,
    sha256: "",
    firstPrevHash: null,
    lastHash: null,
  };
  const spec = { action: "audit.archive", targets: [] };
  let finished = false;
  try {
    for await (const event of auditArchiveLines(ctx.services.db, range)) {
      const line = `${event.line}\n`;
      hash.update(line, "utf8");
      if (summary.count === 0) {
        summary.firstId = Number(event.id);
        summary.firstPrevHash = event.prevHash;
      }
      summary.lastId = Number(event.id);
      summary.lastHash = event.hash;
      summary.count++;
      yield line;
    }
    summary.sha256 = hash.digest("hex");
    await audited(ctx, { ...spec, details: { ...summary } }, () => Promise.resolve());
    finished = true;
  } catch (err) {
    finished = true;
    await recordFailure(ctx, { ...spec, details: { ...summary, sha256: null } }, err).catch(() => undefined);
    throw err;
  } finally {
    if (!finished) {
      // The client went away (the generator was closed early).
      const err = new Error(`the download stopped after ${summary.count} events`);
      await recordFailure(ctx, { ...spec, details: { ...summary, sha256: null } }, err).catch(() => undefined);
    }
  }
}
