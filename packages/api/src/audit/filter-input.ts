/**
 * The audit filters as the API takes them: tRPC input, and the query string of the export and
 * archive endpoints (`?person=alice&action=image.*&from=2026-01-01`). Values are checked again, with
 * messages naming the filter, by @berth/db's resolveAuditFilter.
 */
import { InvalidArgumentError } from "@berth/engine";
import { z } from "zod";

const text = (max: number) => z.string().trim().min(1, "must not be empty").max(max);

export const auditFilter = z.object({
  /** Exact actor name: a username, `robot:<name>`, `system`. */
  person: text(200).optional(),
  /** `image.tag`, or a prefix such as `image.*`. */
  action: text(200).optional(),
  namespace: text(255).optional(),
  repository: text(512).optional(),
  /** `v1.2`, or `team-a/app:v1.2`. */
  tag: text(512).optional(),
  /** A digest, or a unique prefix of at least 12 hex characters. */
  digest: text(80).optional(),
  result: z.enum(["ok", "denied", "failed"]).optional(),
  /** Inclusive. */
  from: z.coerce.date().optional(),
  /** Exclusive. */
  to: z.coerce.date().optional(),
});
export type AuditFilter = z.infer<typeof auditFilter>;

export const AUDIT_FILTER_KEYS = Object.keys(auditFilter.shape) as (keyof AuditFilter)[];

/** A ZodError as the engine's bad-input error, naming the field. */
function parsed<T>(result: z.ZodSafeParseResult<T>, what: string): T {
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || what;
  const message =
    issue?.code === "unrecognized_keys" ? `unknown ${what} ${issue.keys.map((k) => `"${k}"`).join(", ")}` : `${field}: ${issue?.message}`;
  throw new InvalidArgumentError(`invalid audit ${what === "parameter" ? "query" : what}: ${message}`);
}

function params(url: string): Record<string, string> {
  return Object.fromEntries([...new URL(url).searchParams].filter(([, v]) => v !== ""));
}

/** `GET /api/audit/export?format=csv|jsonl&<filters>`. */
export function exportQuery(url: string): { format: "csv" | "jsonl"; filter: AuditFilter } {
  const { format = "csv", ...rest } = params(url);
  if (format !== "csv" && format !== "jsonl" && format !== "json") {
    throw new InvalidArgumentError(`invalid audit export format "${format}": use csv or jsonl`);
  }
  return { format: format === "csv" ? "csv" : "jsonl", filter: parsed(auditFilter.strict().safeParse(rest), "parameter") };
}

/** `POST /api/audit/archive?from=…&to=…`. */
export function archiveQuery(url: string): { from?: Date; to?: Date } {
  return parsed(auditFilter.pick({ from: true, to: true }).strict().safeParse(params(url)), "parameter");
}
