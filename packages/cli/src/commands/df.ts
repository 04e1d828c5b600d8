import type { Command } from "commander";
import type { DiskUsageRow } from "../api";
import { formatItems, formattingContext, humanSize, type Column } from "../format";
import { println, write } from "../output";
import type { Runtime } from "../runtime";
import { IMAGE_HEADERS, imageContext, type ImageContext } from "./images";
import { act } from "./shared";

/** docker's disk-usage formatting context (`docker system df --format '{{.Size}}'`). */
export interface DiskUsageContext {
  Type: string;
  TotalCount: string;
  Active: string;
  Size: string;
  Reclaimable: string;
}

export function diskUsageContext(row: DiskUsageRow): DiskUsageContext {
  const reclaimable =
    row.size > 0 ? `${humanSize(row.reclaimable)} (${Math.trunc((row.reclaimable * 100) / row.size)}%)` : humanSize(row.reclaimable);
  return formattingContext<DiskUsageContext>(
    {
      Type: row.type,
      TotalCount: String(row.totalCount),
      Active: String(row.active),
      Size: humanSize(row.size),
      Reclaimable: reclaimable,
    },
    "*formatter.diskUsageImagesContext",
  );
}

const HEADERS: Record<keyof DiskUsageContext, string> = {
  Type: "TYPE",
  TotalCount: "TOTAL",
  Active: "ACTIVE",
  Size: "SIZE",
  Reclaimable: "RECLAIMABLE",
};

export async function runDf(rt: Runtime, opts: { verbose?: boolean; format?: string }): Promise<void> {
  const api = await rt.api();
  const usage = await api.diskUsage(Boolean(opts.verbose));
  if (!opts.verbose) {
    const columns = (Object.keys(HEADERS) as (keyof DiskUsageContext)[]).map((field) => ({ field, header: HEADERS[field] }));
    write(rt.io.stdout, formatItems(opts.format, usage.summary.map(diskUsageContext), columns, HEADERS));
    return;
  }
  const items = usage.images.map((row) => imageContext(row, { noTrunc: false, now: rt.now() }));
  const columns: Column<ImageContext>[] = (
    ["Repository", "Tag", "ID", "CreatedSince", "Size", "SharedSize", "UniqueSize", "Containers"] as const
  ).map((field) => ({ field, header: IMAGE_HEADERS[field] }));
  if (!opts.format) {
    println(rt.io.stdout, "Images space usage:");
    println(rt.io.stdout);
  }
  write(rt.io.stdout, formatItems(opts.format, items, columns, IMAGE_HEADERS));
}

export function registerDf(parent: Command, rt: Runtime): Command {
  return parent
    .command("df")
    .description("Show Berth disk usage")
    .usage("[OPTIONS]")
    .option("-v, --verbose", "Show detailed information on space usage")
    .option("--format <string>", "Format output using a custom template ('table', 'table TEMPLATE', 'json', or a Go template)")
    .action(act(rt, (opts: { verbose?: boolean; format?: string }) => runDf(rt, opts)));
}
