import { listAuditEvents } from "@berth/db";
import type { Context } from "../context";
import type { AuditFilter } from "../routers/audit";

const COLUMNS = [
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

function cellText(value: unknown): string {
  if (value == null) return "";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? "";
}

function csvCell(value: unknown): string {
  const text = cellText(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Streams the filtered audit log, newest first, page by page, as CSV or JSON Lines. */
export async function* exportAudit(ctx: Pick<Context, "services">, filter: AuditFilter, format: "csv" | "jsonl") {
  if (format === "csv") yield `${COLUMNS.join(",")}\n`;
  let cursor: string | undefined;
  for (;;) {
    const page = await listAuditEvents(ctx.services.db, { ...filter, cursor, limit: 500 });
    for (const e of page.events) {
      const row = e as unknown as Record<string, unknown>;
      yield format === "csv" ? `${COLUMNS.map((c) => csvCell(row[c])).join(",")}\n` : `${JSON.stringify(row)}\n`;
    }
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}
