import { goJson } from "./go-value";
import { tabwrite } from "./table";
import { DOCKER_HEADER_FUNCS, parseTemplate } from "./template";

export interface FormatItemsOptions {
  /**
   * The `--format` value: a Go template, `table …`, `table` alone (the default table),
   * or `json` (one JSON object per line).
   */
  format: string;
  items: readonly unknown[];
  /** Field name → column header (docker's header context, e.g. `{ ID: "IMAGE ID" }`). */
  header?: Record<string, string>;
  /** Used for `table` with no template. */
  defaultTableFormat?: string;
}

/** True when the format is docker's table directive. */
export function isTableFormat(format: string): boolean {
  return format.startsWith("table");
}

/**
 * docker/cli formatter.Context: `\t`/`\n` escapes become characters, `table` prints a header row
 * rendered from the header context and aligns with tabwriter(10, 1, 3, ' '), and every item's
 * output is followed by a newline.
 */
export function formatItems({ format, items, header = {}, defaultTableFormat }: FormatItemsOptions): string {
  let source = format;
  if (source === "json") source = "{{json .}}";
  if (source.trim() === "table" && defaultTableFormat) source = defaultTableFormat;
  const table = isTableFormat(source);
  if (table) source = source.slice("table".length);
  source = source
    .replace(/^ +| +$/g, "")
    .replace(/\\t/g, "\t")
    .replace(/\\n/g, "\n");
  const template = parseTemplate(source);
  let body = "";
  for (const item of items) body += `${template.execute(item)}\n`;
  if (!table) return body;
  const head = template.execute(header, DOCKER_HEADER_FUNCS);
  return tabwrite(`${head}\n${body}`);
}

/** `--format json` for a single value, as docker's json template function prints it. */
export function toGoJson(value: unknown): string {
  return goJson(value);
}
