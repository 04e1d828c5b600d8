import { createHash } from "node:crypto";
import { Digest } from "@berth/engine";
import type { DbClient } from "./client";
import { Prisma } from "./generated/prisma/client";

export type AuditInterface = "web" | "cli" | "api" | "registry" | "system";
export type AuditResult = "ok" | "denied" | "failed";

/** What an event acted on: a reference, and the image it named before and after. Digests given
 * as strings are checked (InvalidDigestError). */
export interface AuditTarget {
  ref: string;
  digestBefore?: Digest | string | null;
  digestAfter?: Digest | string | null;
}

export interface AuditEventInput {
  /** The user's id; null for the system or an unauthenticated caller. */
  actorId?: string | null;
  actorName: string;
  /** Verb-first, e.g. `image.pull`, `tag.remove`, `user.login`. */
  action: string;
  interface: AuditInterface;
  result: AuditResult;
  error?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  targets?: AuditTarget[];
  details?: Record<string, unknown>;
}

export interface AuditEvent {
  /** Position in the chain: ids increase in chain order (with gaps). */
  id: number;
  /** Set by the database when the event joined the chain. */
  at: Date;
  actorId: string | null;
  actorName: string;
  action: string;
  interface: AuditInterface;
  result: AuditResult;
  error: string | null;
  ip: string | null;
  userAgent: string | null;
  targets: { ref: string; digestBefore: Digest | null; digestAfter: Digest | null }[];
  details: Record<string, unknown>;
  prevHash: string | null;
  hash: string;
}

export type AuditChainVerification = { ok: true; count: number } | { ok: false; brokenAtId: number; reason: string };

/** An audit_events row as `SELECT ${AUDIT_COLUMNS}` returns it. */
export interface AuditRow {
  id: bigint;
  at: Date;
  actor_id: string | null;
  actor_name: string;
  action: string;
  interface: string;
  result: string;
  error: string | null;
  ip: string | null;
  user_agent: string | null;
  targets: unknown;
  details: unknown;
  prev_hash: string | null;
  hash: string;
}

export const AUDIT_COLUMNS = Prisma.sql`id, at, actor_id, actor_name, action, interface, result, error, ip, user_agent,
  targets, details, prev_hash, hash`;

/**
 * Appends an event to the audit log. Pass the transaction client of the operation it records, so
 * both commit or neither does. The database assigns id, time and the hash chain; the transaction
 * must be READ COMMITTED (Prisma's default).
 */
export async function appendAuditEvent(tx: DbClient, event: AuditEventInput): Promise<AuditEvent> {
  const targets = (event.targets ?? []).map((target) => ({
    ref: target.ref,
    digestBefore: checkDigest(target.digestBefore),
    digestAfter: checkDigest(target.digestAfter),
  }));
  const [row] = await tx.$queryRaw<AuditRow[]>`
    INSERT INTO audit_events
      (actor_id, actor_name, action, interface, result, error, ip, user_agent, targets, details)
    VALUES (
      ${event.actorId ?? null}::uuid, ${event.actorName}, ${event.action}, ${event.interface},
      ${event.result}, ${event.error ?? null}, ${event.ip ?? null}, ${event.userAgent ?? null},
      ${JSON.stringify(targets)}::jsonb, ${JSON.stringify(event.details ?? {})}::jsonb)
    RETURNING ${AUDIT_COLUMNS}`;
  if (!row) throw new Error("INSERT INTO audit_events returned no row");
  return toAuditEvent(row);
}

/**
 * Walks the chain in id order, recomputing each hash as the insert trigger does:
 * sha256_hex(coalesce(prev_hash, '') || audit_event_canonical(row)), and checking each prev_hash
 * is the hash of the event before it (the first event's is null).
 */
export async function verifyAuditChain(db: DbClient): Promise<AuditChainVerification> {
  const batch = 5000;
  let previous: string | null = null;
  let after = -1n;
  let count = 0;
  for (;;) {
    const rows: { id: bigint; prev_hash: string | null; hash: string; canonical: string }[] = await db.$queryRaw`
        SELECT e.id, e.prev_hash, e.hash, audit_event_canonical(e) AS canonical
        FROM audit_events e WHERE e.id > ${after} ORDER BY e.id LIMIT ${batch}`;
    for (const row of rows) {
      const id = Number(row.id);
      if (row.prev_hash !== previous) {
        return {
          ok: false,
          brokenAtId: id,
          reason:
            previous === null
              ? "the first event links to a previous one: earlier events were removed"
              : "prev_hash is not the hash of the event before it: an event before it was removed or altered",
        };
      }
      const expected: string = createHash("sha256")
        .update((row.prev_hash ?? "") + row.canonical, "utf8")
        .digest("hex");
      if (row.hash !== expected) {
        return {
          ok: false,
          brokenAtId: id,
          reason: "hash does not match the event's contents: the event was altered",
        };
      }
      previous = row.hash;
      after = row.id;
      count += 1;
    }
    if (rows.length < batch) return { ok: true, count };
  }
}

export function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: Number(row.id),
    at: row.at,
    actorId: row.actor_id,
    actorName: row.actor_name,
    action: row.action,
    interface: row.interface as AuditInterface,
    result: row.result as AuditResult,
    error: row.error,
    ip: row.ip,
    userAgent: row.user_agent,
    targets: toTargets(parseJson(row.targets)),
    details: toObject(parseJson(row.details)),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function parseJson(value: unknown): unknown {
  return typeof value === "string" ? (JSON.parse(value) as unknown) : value;
}

function toTargets(value: unknown): AuditEvent["targets"] {
  if (!Array.isArray(value)) return [];
  return value.map((item: unknown) => {
    const target = toObject(item);
    const digest = (key: string) => {
      const raw = target[key];
      return typeof raw === "string" ? (Digest.tryParse(raw) ?? null) : null;
    };
    return {
      ref: typeof target.ref === "string" ? target.ref : "",
      digestBefore: digest("digestBefore"),
      digestAfter: digest("digestAfter"),
    };
  });
}

function toObject(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function checkDigest(value: Digest | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? Digest.parse(value).toString() : value.toString();
}
