import { Option, type Command } from "commander";
import type { AuditEvent, AuditQuery, BerthApi } from "../api";
import { LocalError } from "../errors";
import { ellipsis, renderTable } from "../format";
import { write } from "../output";
import type { Runtime } from "../runtime";
import { act, filterOption, flagError, parseTimeArg, type Filters } from "./shared";

export const AUDIT_FILTER_KEYS = ["actor", "action", "repository"] as const;
const CSV_COLUMNS = [
  "id",
  "at",
  "actorName",
  "action",
  "result",
  "error",
  "interface",
  "ip",
  "userAgent",
  "targets",
  "details",
  "hash",
] as const;
const PAGE_MAX = 500;

export interface AuditOptions {
  filter: Filters;
  since?: string;
  until?: string;
  format: "table" | "json" | "csv";
  limit: number;
  noTrunc?: boolean;
  trunc?: boolean;
}

/** `--filter`/`--since`/`--until` → the query (without paging); unknown keys are refused. */
export function auditQuery(opts: Pick<AuditOptions, "filter" | "since" | "until">, now: Date): Omit<AuditQuery, "limit" | "cursor"> {
  const query: Omit<AuditQuery, "limit" | "cursor"> = {};
  for (const [key, values] of Object.entries(opts.filter)) {
    if (!(AUDIT_FILTER_KEYS as readonly string[]).includes(key)) {
      throw new LocalError(`invalid filter '${key}' (supported: ${AUDIT_FILTER_KEYS.join(", ")})`);
    }
    if (values.length > 1) throw new LocalError(`filter '${key}' can be given only once`);
    query[key as (typeof AUDIT_FILTER_KEYS)[number]] = values[0];
  }
  for (const [flag, text, field] of [
    ["--since", opts.since, "from"],
    ["--until", opts.until, "to"],
  ] as const) {
    if (text === undefined) continue;
    const date = parseTimeArg(text, now);
    if (!date) throw new LocalError(`invalid value for ${flag}: ${text} (use RFC 3339, a Unix timestamp or a duration like 10m)`);
    query[field] = date;
  }
  return query;
}

/** Pages through the log (newest first) until `limit` events were read or the log ends. */
export async function fetchEvents(api: BerthApi, query: Omit<AuditQuery, "limit" | "cursor">, limit: number): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  while (events.length < limit) {
    const page = await api.audit({
      ...query,
      limit: Math.min(PAGE_MAX, limit - events.length),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    events.push(...page.events);
    if (page.nextCursor === null || page.events.length === 0) break;
    cursor = page.nextCursor;
  }
  return events.slice(0, limit);
}

function csvCell(value: unknown): string {
  const text = value == null ? "" : value instanceof Date ? value.toISOString() : typeof value === "string" ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function renderAudit(events: AuditEvent[], format: AuditOptions["format"], noTrunc: boolean): string {
  if (format === "json") return events.map((e) => `${JSON.stringify(e)}\n`).join("");
  if (format === "csv") {
    const rows = events.map((e) => CSV_COLUMNS.map((c) => csvCell(e[c])).join(","));
    return [CSV_COLUMNS.join(","), ...rows].map((l) => `${l}\n`).join("");
  }
  const targets = (e: AuditEvent) => e.targets.map((t) => t.ref).join(", ");
  const rows = events.map((e) => [
    e.at.toISOString().replace(/\.\d{3}Z$/, "Z"),
    e.actorName,
    e.interface,
    e.action,
    e.result === "ok" || !e.error ? e.result : `${e.result}: ${noTrunc ? e.error : ellipsis(e.error, 40)}`,
    noTrunc ? targets(e) : ellipsis(targets(e), 60),
  ]);
  return renderTable([["TIME", "ACTOR", "INTERFACE", "ACTION", "RESULT", "TARGETS"], ...rows]);
}

export async function runAudit(rt: Runtime, opts: AuditOptions): Promise<void> {
  const query = auditQuery(opts, rt.now());
  const api = await rt.api();
  const events = await fetchEvents(api, query, opts.limit);
  write(rt.io.stdout, renderAudit(events, opts.format, opts.noTrunc === true || opts.trunc === false));
}

export function registerAudit(parent: Command, rt: Runtime): Command {
  const cmd = parent.command("audit");
  cmd
    .description("Show the audit log (newest first)")
    .usage("[OPTIONS]")
    .option("--since <time>", "Only events at or after this time (RFC 3339, Unix timestamp, or duration like 10m)")
    .option("--until <time>", "Only events before this time (RFC 3339, Unix timestamp, or duration like 10m)")
    .addOption(new Option("--format <format>", "Output format").choices(["table", "json", "csv"]).default("table"))
    .option("--no-trunc", "Don't truncate output")
    .addOption(
      new Option("--limit <n>", "Maximum number of events").default(50).argParser((value: string) => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1)
          throw flagError(cmd, `invalid argument "${value}" for "--limit" flag: must be a positive integer`);
        return n;
      }),
    );
  filterOption(cmd, "Filter events: actor=NAME, action=ACTION, repository=REPO (repeatable)");
  return cmd.action(act(rt, (opts: AuditOptions) => runAudit(rt, opts)));
}
