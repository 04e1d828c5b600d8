/**
 * Go's text/tabwriter (left-aligned, space padding), as docker's table output uses it:
 * `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`. Cells are tab-terminated; the last cell of a
 * line is not aligned. Consecutive lines sharing a column form a block aligned to its widest cell.
 */
export interface TabwriterOptions {
  /** Minimal cell width including padding (docker: 10). */
  minWidth?: number;
  /** Padding added to the widest cell of a column (docker: 3). */
  padding?: number;
}

interface Cell {
  text: string;
  width: number;
}

function displayWidth(s: string): number {
  return [...s].length;
}

export function tabwrite(text: string, options: TabwriterOptions = {}): string {
  const minWidth = options.minWidth ?? 10;
  const padding = options.padding ?? 3;
  const lines: Cell[][] = text.split("\n").map((line) => line.split("\t").map((t) => ({ text: t, width: displayWidth(t) })));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] ?? [];
      let s = "";
      line.forEach((cell, j) => {
        s += cell.text;
        const w = widths[j];
        if (j < widths.length && w !== undefined) s += " ".repeat(Math.max(0, w - cell.width));
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let current = line0; current < line1; current++) {
      if (column >= (lines[current]?.length ?? 0) - 1) continue;
      writeLines(line0, current);
      line0 = current;
      let width = minWidth;
      for (; current < line1; current++) {
        const line = lines[current] ?? [];
        if (column >= line.length - 1) break;
        const w = (line[column]?.width ?? 0) + padding;
        if (w > width) width = w;
      }
      widths.push(width);
      format(line0, current);
      widths.pop();
      line0 = current;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join("\n");
}

/** Renders rows as docker prints tables: header, then rows, aligned, each line ending in "\n". */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], options?: TabwriterOptions): string {
  const text = [header, ...rows].map((r) => `${r.join("\t")}\n`).join("");
  return tabwrite(text, options);
}
