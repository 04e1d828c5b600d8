import { Option, type Command } from "commander";
import type { HistoryRow } from "../api";
import { ellipsis, formatItems, formattingContext, imageSize, rfc3339, timeAgo, truncateId, type Column } from "../format";
import { write } from "../output";
import type { Runtime } from "../runtime";
import { act } from "./shared";

/** docker's history formatting context (`docker history --format '{{.CreatedBy}}'`). */
export interface HistoryContext {
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  CreatedBy: string;
  Size: string;
  Comment: string;
}

export function historyContext(row: HistoryRow, opts: { human: boolean; noTrunc: boolean; now: Date }): HistoryContext {
  const createdBy = row.createdBy.replaceAll("\t", " ");
  return formattingContext<HistoryContext>(
    {
      ID: row.id === "<missing>" || opts.noTrunc ? row.id : truncateId(row.id),
      CreatedSince: opts.human ? timeAgo(row.created, opts.now) : rfc3339(row.created),
      CreatedAt: rfc3339(row.created),
      CreatedBy: opts.noTrunc ? createdBy : ellipsis(createdBy, 45),
      Size: opts.human ? imageSize(row.size) : String(row.size),
      Comment: row.comment,
    },
    "*formatter.historyContext",
  );
}

const HEADERS: Record<keyof HistoryContext, string> = {
  ID: "IMAGE",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  CreatedBy: "CREATED BY",
  Size: "SIZE",
  Comment: "COMMENT",
};

export interface HistoryOptions {
  human: boolean;
  noTrunc?: boolean;
  trunc?: boolean;
  quiet?: boolean;
  format?: string;
}

export async function runHistory(rt: Runtime, ref: string, opts: HistoryOptions): Promise<void> {
  const api = await rt.api();
  const rows = await api.history(ref);
  const noTrunc = opts.noTrunc === true || opts.trunc === false;
  const items = rows.map((row) => historyContext(row, { human: opts.human, noTrunc, now: rt.now() }));
  if (opts.quiet) {
    write(rt.io.stdout, items.map((i) => `${i.ID}\n`).join(""));
    return;
  }
  const columns: Column<HistoryContext>[] = (["ID", "CreatedSince", "CreatedBy", "Size", "Comment"] as const).map((field) => ({
    field,
    header: HEADERS[field],
  }));
  write(rt.io.stdout, formatItems(opts.format, items, columns, HEADERS));
}

export function registerHistory(parent: Command, rt: Runtime, name: string): Command {
  const cmd = parent.command(name);
  return cmd
    .description("Show the history of an image")
    .usage("[OPTIONS] IMAGE")
    .argument("<IMAGE>")
    .option("-H, --human", "Print sizes and dates in human readable format (-H=false for raw values)", true)
    .addOption(new Option("--no-human").hideHelp())
    .option("--no-trunc", "Don't truncate output")
    .option("-q, --quiet", "Only show image IDs")
    .option("--format <string>", "Format output using a custom template ('table', 'table TEMPLATE', 'json', or a Go template)")
    .action(act(rt, (ref: string, opts: HistoryOptions) => runHistory(rt, ref, opts)));
}
