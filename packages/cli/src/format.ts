/**
 * Docker's output conventions, in one file: sizes, durations, the table writer and `--format`
 * templates come from @berth/engine's `format` module (docker/go-units, text/tabwriter and
 * the Go-template interpreter); commands call only what is exported here.
 */
import {
  createdSince,
  formatItems as engineFormatItems,
  humanDuration as engineHumanDuration,
  humanSize as engineHumanSize,
  humanSizeWithPrecision as engineHumanSizeWithPrecision,
  markStruct,
  parseTemplate,
  renderTable as engineRenderTable,
  TemplateError,
} from "@berth/engine";
import { PlainError } from "./errors";

// ---------------------------------------------------------------------------------------------
// Sizes and durations (docker/go-units)
// ---------------------------------------------------------------------------------------------

/** go-units `HumanSizeWithPrecision`: decimal units, `precision` significant digits. */
export const humanSizeWithPrecision = (bytes: number, precision: number): string => engineHumanSizeWithPrecision(bytes, precision);

/** go-units `HumanSize` (4 significant digits): `Total reclaimed space: 1.234MB`. */
export const humanSize = (bytes: number): string => engineHumanSize(bytes);

/** The size columns of `docker images` / `docker history` (3 significant digits). */
export const imageSize = (bytes: number): string => engineHumanSizeWithPrecision(bytes, 3);

/** go-units `HumanDuration`. */
export const humanDuration = (ms: number): string => engineHumanDuration(ms);

/** `3 days ago`; docker shows `N/A` for an unknown creation time. */
export function timeAgo(date: Date | null | undefined, now: Date): string {
  if (!date || Number.isNaN(date.getTime())) return "N/A";
  return createdSince(date, now);
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** Go's `time.Time.String()` in local time: `2024-01-01 00:00:00 +0000 UTC`. */
export function goTimeString(date: Date | null | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return "";
  const off = -date.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const zone =
    off === 0
      ? "UTC"
      : (new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(date).find((p) => p.type === "timeZoneName")?.value ??
        "");
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())} ` +
    `${sign}${pad2(Math.trunc(Math.abs(off) / 60))}${pad2(Math.abs(off) % 60)} ${zone}`
  );
}

/** RFC 3339 without fractional seconds, in local time (`docker history -H=false`). */
export function rfc3339(date: Date | null | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return "";
  const off = -date.getTimezoneOffset();
  const zone = off === 0 ? "Z" : `${off < 0 ? "-" : "+"}${pad2(Math.trunc(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}T` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}${zone}`
  );
}

// ---------------------------------------------------------------------------------------------
// IDs and text
// ---------------------------------------------------------------------------------------------

/** docker's `stringid.TruncateID`: drop the algorithm, keep 12 hex digits. */
export function truncateId(id: string): string {
  const hex = id.includes(":") ? id.slice(id.indexOf(":") + 1) : id;
  return hex.slice(0, 12);
}

/** docker's `formatter.Ellipsis`. */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

// ---------------------------------------------------------------------------------------------
// Tables and --format
// ---------------------------------------------------------------------------------------------

/** Rows (header first) aligned like docker's tables: tabwriter(minwidth 10, padding 3). */
export function renderTable(rows: string[][]): string {
  const [header = [], ...body] = rows;
  return engineRenderTable(header, body);
}

/** Marks a formatting context as a Go struct: unknown `{{.Field}}`s fail like docker's, json keeps A→Z order. */
export function formattingContext<T extends object>(fields: T, typeName: string): T {
  const sorted = Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
  return markStruct(sorted, typeName);
}

export interface Column<T> {
  header: string;
  /** The Go-template field name (`ID`, `Repository`, …) the column shows. */
  field: keyof T & string;
}

function templateFailure(err: unknown, parsing: boolean): Error {
  if (err instanceof TemplateError || (err instanceof Error && err.message.startsWith("template:"))) {
    return new PlainError(parsing && !err.message.includes("executing") ? `template parsing error: ${err.message}` : err.message);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * docker's formatter: without `--format` (or with `table`) the default table of `columns`;
 * `table TEMPLATE`, `json` (one object per line) or a Go template per item otherwise.
 * `headers` maps every field to its column title for `table TEMPLATE`.
 */
export function formatItems<T extends object>(
  format: string | undefined,
  items: T[],
  columns: Column<T>[],
  headers: Partial<Record<keyof T & string, string>> = {},
): string {
  const defaultTableFormat = `table ${columns.map((c) => `{{.${c.field}}}`).join("\t")}`;
  const header: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === "string") header[k] = v;
  for (const c of columns) header[c.field] = c.header;
  try {
    return engineFormatItems({ format: format || "table", items, header, defaultTableFormat });
  } catch (err) {
    throw templateFailure(err, true);
  }
}

export type Template = (data: unknown) => string;

/** Compiles a Go template (`inspect --format`); `\t`/`\n` escapes become characters like docker's. */
export function compileTemplate(source: string): Template {
  let template: ReturnType<typeof parseTemplate>;
  try {
    template = parseTemplate(source.replace(/\\t/g, "\t").replace(/\\n/g, "\n"));
  } catch (err) {
    throw templateFailure(err, true);
  }
  return (data) => {
    try {
      return template.execute(data);
    } catch (err) {
      throw templateFailure(err, false);
    }
  };
}
