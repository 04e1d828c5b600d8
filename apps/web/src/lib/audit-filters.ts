/**
 * The audit page's filters, kept in the URL (`/audit?person=alice&action=image.*&from=…`) so a
 * filtered view can be bookmarked and shared. Times are RFC 3339 (UTC) in the URL and local time
 * in the form's inputs.
 */

export const AUDIT_FILTER_FIELDS = ["person", "action", "namespace", "repository", "tag", "digest", "result", "from", "to"] as const;
export type AuditFilterField = (typeof AUDIT_FILTER_FIELDS)[number];
/** Every field as text; "" when not set. */
export type AuditFilterValues = Record<AuditFilterField, string>;

export const EMPTY_FILTERS: AuditFilterValues = Object.fromEntries(AUDIT_FILTER_FIELDS.map((f) => [f, ""])) as AuditFilterValues;

export function filtersFromParams(params: { get(name: string): string | null }): AuditFilterValues {
  return Object.fromEntries(AUDIT_FILTER_FIELDS.map((f) => [f, params.get(f)?.trim() ?? ""])) as AuditFilterValues;
}

/** The set filters as a query string (no leading "?"). */
export function filtersToParams(values: AuditFilterValues, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams(extra);
  for (const f of AUDIT_FILTER_FIELDS) if (values[f].trim()) params.set(f, values[f].trim());
  return params.toString();
}

/** What `audit.list` takes: set fields only; bad times are left for the server to refuse. */
export function filtersToInput(values: AuditFilterValues) {
  const text = (f: AuditFilterField) => values[f].trim() || undefined;
  const result = text("result");
  return {
    person: text("person"),
    action: text("action"),
    namespace: text("namespace"),
    repository: text("repository"),
    tag: text("tag"),
    digest: text("digest"),
    result: result as "ok" | "denied" | "failed" | undefined,
    from: text("from"),
    to: text("to"),
  };
}

export function hasFilters(values: AuditFilterValues): boolean {
  return AUDIT_FILTER_FIELDS.some((f) => values[f].trim() !== "");
}

const pad = (n: number) => String(n).padStart(2, "0");

/** RFC 3339 → a datetime-local input's value, in local time ("" when blank or invalid). */
export function isoToLocalInput(iso: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local input's value (local time) → RFC 3339 ("" when blank or invalid). */
export function localInputToIso(local: string): string {
  if (!local) return "";
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}
