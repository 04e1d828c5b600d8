/** `berth audit` filters: `--filter key=value` (docker-style) and the time flags, checked here. */
import type { AuditFilter } from "../api";
import { LocalError } from "../errors";
import { parseTimeArg, type Filters } from "./shared";

export const AUDIT_FILTER_HELP =
  "Filter events (repeatable): person=NAME, action=ACTION or PREFIX.*, namespace=NS, repository=REPO, tag=TAG or REPO:TAG, digest=DIGEST or 12+ hex prefix, result=ok|denied|failed";

/** `--filter` keys; `actor` is an older name of `person`. */
export const AUDIT_FILTER_KEYS = ["person", "action", "namespace", "repository", "tag", "digest", "result"] as const;
const ALIASES: Record<string, (typeof AUDIT_FILTER_KEYS)[number]> = { actor: "person" };
const RESULTS = ["ok", "denied", "failed"] as const;

/** `--filter`/`--since`/`--until` → the filter; unknown keys and bad values are refused. */
export function auditQuery(opts: { filter: Filters; since?: string | undefined; until?: string | undefined }, now: Date): AuditFilter {
  const query: AuditFilter = {};
  for (const [given, values] of Object.entries(opts.filter)) {
    const key = ALIASES[given] ?? given;
    if (!(AUDIT_FILTER_KEYS as readonly string[]).includes(key)) {
      throw new LocalError(`invalid filter '${given}' (supported: ${AUDIT_FILTER_KEYS.join(", ")})`);
    }
    if (values.length > 1 || query[key as keyof AuditFilter] !== undefined) throw new LocalError(`filter '${key}' can be given only once`);
    const value = values[0] ?? "";
    if (key === "result") {
      if (!(RESULTS as readonly string[]).includes(value))
        throw new LocalError(`invalid filter 'result=${value}' (use ${RESULTS.join(", ")})`);
      query.result = value as (typeof RESULTS)[number];
    } else {
      query[key as Exclude<(typeof AUDIT_FILTER_KEYS)[number], "result">] = value;
    }
  }
  for (const [flag, text, field] of [
    ["--since", opts.since, "from"],
    ["--until", opts.until, "to"],
  ] as const) {
    if (text === undefined) continue;
    query[field] = timeArg(flag, text, now);
  }
  return query;
}

/** A `--since`/`--until`/`--from`/`--to` value as a date; refused with the flag's name. */
export function timeArg(flag: string, text: string, now: Date): Date {
  const date = parseTimeArg(text, now);
  if (!date) throw new LocalError(`invalid value for ${flag}: ${text} (use RFC 3339, a Unix timestamp or a duration like 10m)`);
  return date;
}
