/**
 * Audit archives: JSON Lines, one event per line in chain (id) order, each line the event's
 * canonical fields plus `prev_hash` and `hash`, as the database prints them. Anyone can verify one
 * offline: every hash is recomputed from the line (audit-canonical.ts) and every line must link to
 * the one before. The `audit.archive` event recorded when the archive was made holds the file's
 * sha256 and its first and last hashes, tying the file to the chain. No database imports.
 */
import { auditCanonical, auditHash, CANONICAL_FIELDS, type CanonicalAuditFields } from "./audit-canonical";
import { JsonNumber, parseJsonText, type JsonObject, type JsonValue } from "./json-text";

export const ARCHIVE_FIELDS = [...CANONICAL_FIELDS, "prev_hash", "hash"] as const;

export type AuditArchiveVerification =
  | { ok: true; count: number; firstId: number | null; lastId: number | null; firstPrevHash: string | null; lastHash: string | null }
  | { ok: false; count: number; line: number; id: number | null; reason: string };

const HASH_RE = /^[0-9a-f]{64}$/;

class BrokenLine extends Error {
  constructor(
    message: string,
    readonly id: number | null,
  ) {
    super(message);
  }
}

function text(map: JsonObject, key: string, nullable: boolean, id: number | null): string | null {
  const value = map.get(key);
  if (typeof value === "string") return value;
  if (value === null && nullable) return null;
  throw new BrokenLine(`"${key}" must be ${nullable ? "a string or null" : "a string"}`, id);
}

/** One line → its id, links and the hash it should have. Throws BrokenLine. */
function readLine(line: string): { id: number; prevHash: string | null; hash: string; expected: string } {
  let parsed: JsonValue;
  try {
    parsed = parseJsonText(line);
  } catch (err) {
    throw new BrokenLine(`not JSON: ${(err as Error).message}`, null);
  }
  if (!(parsed instanceof Map)) throw new BrokenLine("not a JSON object", null);
  const rawId = parsed.get("id");
  const id = rawId instanceof JsonNumber && /^[1-9]\d{0,18}$/.test(rawId.text) ? Number(rawId.text) : null;
  if (id === null) throw new BrokenLine('"id" must be a positive integer', null);
  const unknown = [...parsed.keys()].filter((k) => !(ARCHIVE_FIELDS as readonly string[]).includes(k));
  if (unknown.length) throw new BrokenLine(`unexpected field ${unknown.map((k) => `"${k}"`).join(", ")}: the line was edited`, id);
  const missing = ARCHIVE_FIELDS.filter((k) => !parsed.has(k));
  if (missing.length) throw new BrokenLine(`missing field ${missing.map((k) => `"${k}"`).join(", ")}: the line was edited`, id);
  const hash = text(parsed, "hash", false, id)!;
  const prevHash = text(parsed, "prev_hash", true, id);
  if (!HASH_RE.test(hash) || (prevHash !== null && !HASH_RE.test(prevHash))) throw new BrokenLine("hashes must be 64 hex characters", id);
  const fields: CanonicalAuditFields = {
    id: rawId as JsonNumber,
    at: text(parsed, "at", false, id)!,
    actor_id: text(parsed, "actor_id", true, id),
    actor_name: text(parsed, "actor_name", false, id)!,
    action: text(parsed, "action", false, id)!,
    interface: text(parsed, "interface", false, id)!,
    result: text(parsed, "result", false, id)!,
    error: text(parsed, "error", true, id),
    ip: text(parsed, "ip", true, id),
    user_agent: text(parsed, "user_agent", true, id),
    targets: parsed.get("targets") ?? null,
    details: parsed.get("details") ?? null,
  };
  return { id, prevHash, hash, expected: auditHash(prevHash, auditCanonical(fields)) };
}

/**
 * Verifies an archive given as its lines (without line breaks; a last empty line is ignored).
 * Reports the first broken line: unreadable, altered (its hash does not match its contents), or not
 * linked to the line before it (a line was removed, added or reordered).
 */
export async function verifyAuditArchive(lines: AsyncIterable<string> | Iterable<string>): Promise<AuditArchiveVerification> {
  let count = 0;
  let lineNo = 0;
  let pendingBlank = false;
  let first: { id: number; prevHash: string | null } | null = null;
  let last: { id: number; hash: string } | null = null;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (pendingBlank) return { ok: false, count, line: lineNo - 1, id: null, reason: "empty line inside the archive" };
    if (line === "") {
      pendingBlank = true;
      continue;
    }
    let entry: ReturnType<typeof readLine>;
    try {
      entry = readLine(line);
    } catch (err) {
      if (!(err instanceof BrokenLine)) throw err;
      return { ok: false, count, line: lineNo, id: err.id, reason: err.message };
    }
    if (last && entry.id <= last.id) {
      return { ok: false, count, line: lineNo, id: entry.id, reason: `id ${entry.id} does not follow id ${last.id}: lines were reordered` };
    }
    if (last && entry.prevHash !== last.hash) {
      return {
        ok: false,
        count,
        line: lineNo,
        id: entry.id,
        reason: "prev_hash is not the hash of the line before it: an event before it was removed or altered",
      };
    }
    if (entry.hash !== entry.expected) {
      return { ok: false, count, line: lineNo, id: entry.id, reason: "hash does not match the event's contents: the event was altered" };
    }
    first ??= { id: entry.id, prevHash: entry.prevHash };
    last = { id: entry.id, hash: entry.hash };
    count++;
  }
  return {
    ok: true,
    count,
    firstId: first?.id ?? null,
    lastId: last?.id ?? null,
    firstPrevHash: first?.prevHash ?? null,
    lastHash: last?.hash ?? null,
  };
}
