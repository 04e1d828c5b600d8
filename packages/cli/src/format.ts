/**
 * Docker's output conventions, in one file. Sizes, durations and the table writer follow
 * docker/go-units and Go's text/tabwriter as docker configures it; `--format` templates are
 * executed by the Go-template interpreter of @berth/engine (never a second one here).
 * When the engine's `format` module lands, switch the implementations below to it.
 */
import { LocalError, UsageError } from "./errors";

// ---------------------------------------------------------------------------------------------
// Sizes and durations (docker/go-units)
// ---------------------------------------------------------------------------------------------

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/** Go's `%.*g` for a positive float: shortest form, trailing zeros removed. */
function goG(value: number, precision: number): string {
  const [mantissa, exponent] = value.toPrecision(precision).split("e");
  const strip = (s: string) => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);
  if (exponent === undefined) return strip(mantissa ?? "");
  const exp = Number(exponent);
  return `${strip(mantissa ?? "")}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

/** go-units `HumanSizeWithPrecision`: decimal units, `precision` significant digits. */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${goG(size, precision)}${DECIMAL_UNITS[i]}`;
}

/** go-units `HumanSize` (4 significant digits): `Total reclaimed space: 1.234MB`. */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 4);
}

/** The size columns of `docker images` / `docker history` (3 significant digits). */
export function imageSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 3);
}

/** go-units `HumanDuration`. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** `3 days ago`; docker shows `N/A` for an unknown creation time. */
export function timeAgo(date: Date | null | undefined, now: Date): string {
  if (!date || Number.isNaN(date.getTime()) || date.getTime() <= 0) return "N/A";
  return `${humanDuration(now.getTime() - date.getTime())} ago`;
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
      : (new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
          .formatToParts(date)
          .find((p) => p.type === "timeZoneName")?.value ?? "");
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
  const zone =
    off === 0 ? "Z" : `${off < 0 ? "-" : "+"}${pad2(Math.trunc(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
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
// Tables (Go text/tabwriter as docker uses it: minwidth 10, padding 3, spaces)
// ---------------------------------------------------------------------------------------------

export function renderTable(rows: string[][], opts: { minWidth?: number; padding?: number } = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const width = (s: string) => [...s].length;
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return; // the last cell of a line is not part of a column
      widths[i] = Math.max(widths[i] ?? 0, Math.max(minWidth, width(cell) + padding));
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - width(cell)))).join(""))
    .map((line) => `${line}\n`)
    .join("");
}

// ---------------------------------------------------------------------------------------------
// --format
// ---------------------------------------------------------------------------------------------

export type FormatSpec =
  | { kind: "default" }
  | { kind: "json" }
  | { kind: "table"; template?: string }
  | { kind: "template"; template: string };

/** docker's `--format`: empty/`table` → table, `table TEMPLATE`, `json`, or a Go template. */
export function parseFormat(format: string | undefined): FormatSpec {
  if (format === undefined || format === "") return { kind: "default" };
  const trimmed = format.trim();
  if (trimmed === "table") return { kind: "table" };
  if (trimmed === "json") return { kind: "json" };
  const unescape = (t: string) => t.replaceAll("\\t", "\t").replaceAll("\\n", "\n");
  if (format.startsWith("table ")) return { kind: "table", template: unescape(format.slice(6).trim()) };
  return { kind: "template", template: unescape(trimmed) };
}

export type Template = (data: unknown) => string;

/** Candidate export names of the engine's interpreter; the first present one is used. */
const ENGINE_TEMPLATE_EXPORTS = ["executeTemplate", "renderTemplate", "formatTemplate"] as const;

/**
 * Compiles a Go template with @berth/engine's interpreter. Loaded lazily so commands that
 * never see `--format` do not pay for it.
 */
export async function compileTemplate(source: string): Promise<Template> {
  const engine = (await import("@berth/engine")) as Record<string, unknown>;
  const parse = engine.parseTemplate;
  if (typeof parse === "function") {
    let compiled: unknown;
    try {
      compiled = (parse as (s: string) => unknown)(source);
    } catch (err) {
      throw new UsageError(`template parsing error: ${(err as Error).message}`);
    }
    if (typeof compiled === "function") return (data) => String((compiled as (d: unknown) => unknown)(data));
    const exec = (compiled as { execute?: unknown }).execute;
    if (typeof exec === "function") return (data) => String((exec as (d: unknown) => unknown).call(compiled, data));
  }
  for (const name of ENGINE_TEMPLATE_EXPORTS) {
    const fn = engine[name];
    if (typeof fn === "function") return (data) => String((fn as (t: string, d: unknown) => unknown)(source, data));
  }
  throw new LocalError("Go-template --format is not available yet: @berth/engine has no template interpreter");
}

/** Runs a template and turns interpreter failures into docker's `template: …` errors. */
export function execute(template: Template, data: unknown): string {
  try {
    return template(data);
  } catch (err) {
    const message = (err as Error).message;
    throw new LocalError(message.startsWith("template") ? message : `template: ${message}`);
  }
}

export interface Column<T> {
  header: string;
  /** The Go-template field name (`ID`, `Repository`, …) the column shows. */
  field: keyof T & string;
}

/**
 * Writes items the way docker's formatter does. `items` are docker's formatting contexts
 * (string fields named like docker's: `.ID`, `.Repository`, …); `columns` is the default table.
 */
export async function formatItems<T extends object>(
  spec: FormatSpec,
  items: T[],
  columns: Column<T>[],
  headers: Partial<Record<keyof T & string, string>> = {},
): Promise<string> {
  if (spec.kind === "json") return items.map((item) => `${JSON.stringify(sortKeys(item))}\n`).join("");
  if (spec.kind === "default" || spec.template === undefined) {
    const rows = [columns.map((c) => c.header), ...items.map((item) => columns.map((c) => String(item[c.field] ?? "")))];
    return renderTable(rows);
  }
  const template = await compileTemplate(spec.template);
  if (spec.kind === "template") return items.map((item) => `${execute(template, item)}\n`).join("");
  const headerContext: Record<string, string> = {};
  for (const c of columns) headerContext[c.field] = c.header;
  for (const [k, v] of Object.entries(headers)) if (typeof v === "string") headerContext[k] = v;
  const lines = [execute(template, headerContext), ...items.map((item) => execute(template, item))];
  return renderTable(lines.flatMap((line) => line.split("\n")).map((line) => line.split("\t")));
}

/** Go marshals maps with sorted keys; docker's `--format json` therefore prints fields A→Z. */
function sortKeys(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
