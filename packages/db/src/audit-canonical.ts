/**
 * The hash chain's canonical form in TypeScript, mirroring audit_event_canonical and
 * audit_event_hash of the init migration exactly (test/audit-canonical.test.ts compares both on
 * awkward values), so an archive can be verified away from the database. No database imports:
 * the CLI uses it offline.
 */
import { createHash } from "node:crypto";
import { JsonNumber, jsonbText, type JsonValue } from "./json-text";

/** The columns the chain covers, as audit_event_canonical names them. */
export interface CanonicalAuditFields {
  id: bigint | number | JsonNumber;
  /** A Date, or the canonical text (`2026-01-02T03:04:05.678Z`). */
  at: Date | string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  interface: string;
  result: string;
  error: string | null;
  ip: string | null;
  user_agent: string | null;
  targets: JsonValue;
  details: JsonValue;
}

export const CANONICAL_FIELDS = [
  "id",
  "at",
  "actor_id",
  "actor_name",
  "action",
  "interface",
  "result",
  "error",
  "ip",
  "user_agent",
  "targets",
  "details",
] as const satisfies readonly (keyof CanonicalAuditFields)[];

/** `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`. */
export function canonicalTime(at: Date): string {
  return at.toISOString();
}

/** audit_event_canonical: the jsonb text of the event's fields (jsonb sorts the keys). */
export function auditCanonical(fields: CanonicalAuditFields): string {
  const id = fields.id instanceof JsonNumber ? fields.id : new JsonNumber(String(fields.id));
  return jsonbText({
    id,
    at: typeof fields.at === "string" ? fields.at : canonicalTime(fields.at),
    actor_id: fields.actor_id,
    actor_name: fields.actor_name,
    action: fields.action,
    interface: fields.interface,
    result: fields.result,
    error: fields.error,
    ip: fields.ip,
    user_agent: fields.user_agent,
    targets: fields.targets,
    details: fields.details,
  });
}

/** audit_event_hash: sha256 hex of the previous event's hash (none: "") followed by the canonical form. */
export function auditHash(prevHash: string | null, canonical: string): string {
  return createHash("sha256")
    .update((prevHash ?? "") + canonical, "utf8")
    .digest("hex");
}
