import { Option, type Command } from "commander";
import type { AuditEvent, AuditFilter, BerthApi } from "../api";
import { ellipsis, renderTable } from "../format";
import { write } from "../output";
import type { Runtime } from "../runtime";
import { registerAuditFiles } from "./audit-files";
import { AUDIT_FILTER_HELP, auditQuery } from "./audit-query";
import { act, filterOption, flagError, type Filters } from "./shared";

export { AUDIT_FILTER_KEYS, auditQuery } from "./audit-query";

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

/** Pages through the log (newest first) until `limit` events were read or the log ends. */
export async function fetchEvents(api: BerthApi, query: AuditFilter, limit: number): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  while (events.length < limit) {
    const page = await api.audit({
      ...query,
      limit: Math.min(PAGE_MAX, limit - events.length),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    events.push(...page.events);
    // A page can be short, even empty, with more to come: only a null cursor ends the log.
    if (page.nextCursor === null) break;
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
    .description("Show the audit log (newest first); export, archive and verify it")
    .usage("[OPTIONS] [COMMAND]")
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
  filterOption(cmd, AUDIT_FILTER_HELP);
  cmd.action(act(rt, (opts: AuditOptions) => runAudit(rt, opts)));
  registerAuditFiles(cmd, rt);
  return cmd;
}
