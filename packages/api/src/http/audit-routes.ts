import { Readable } from "node:stream";
import type { Context } from "../context";
import { guard } from "../auth/guard";
import { archiveQuery } from "../audit/filter-input";
import { prepareAuditArchive } from "../services/audit-archive";
import { streamResponse } from "./node-bodies";

/**
 * `POST /api/audit/archive?from=…&to=…` (admin): the range as a verifiable JSON Lines archive,
 * recorded as an `audit.archive` event with the file's sha256 (services/audit-archive.ts). POST,
 * not GET: it writes to the audit log, and a cross-site form cannot send the session cookie.
 */
export async function handleAuditArchive(req: Request, ctx: Context): Promise<Response> {
  const range = archiveQuery(req.url);
  await guard(ctx, "audit-archive", [], { audit: "audit.archive", auditAnonymous: true });
  const archive = await prepareAuditArchive(ctx, range);
  const name = `berth-audit-${archive.range.lo}-${archive.range.hi - 1n}.jsonl`;
  return streamResponse(Readable.from(archive.lines), {
    headers: {
      "content-type": "application/x-ndjson",
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-store",
    },
  });
}
