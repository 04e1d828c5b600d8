import type { Command } from "commander";
import type { ImageRow } from "../api";
import { formatItems, formattingContext, goTimeString, imageSize, timeAgo, truncateId, type Column } from "../format";
import { write } from "../output";
import type { Runtime } from "../runtime";
import { act, filterOption, type Filters } from "./shared";

/** docker's image formatting context (`docker images --format '{{.ID}}'`). */
export interface ImageContext {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

export function imageContext(row: ImageRow, opts: { noTrunc: boolean; now: Date }): ImageContext {
  const optionalSize = (n: number) => (n < 0 ? "N/A" : imageSize(n));
  return formattingContext<ImageContext>(
    {
      Containers: row.containers < 0 ? "N/A" : String(row.containers),
      CreatedAt: goTimeString(row.created),
      CreatedSince: timeAgo(row.created, opts.now),
      Digest: row.digest ?? "<none>",
      ID: opts.noTrunc ? row.id : truncateId(row.id),
      Repository: row.repository,
      SharedSize: optionalSize(row.sharedSize),
      Size: imageSize(row.size),
      Tag: row.tag,
      UniqueSize: optionalSize(row.uniqueSize),
      VirtualSize: imageSize(row.size),
    },
    "*formatter.imageContext",
  );
}

export const IMAGE_HEADERS: Record<keyof ImageContext, string> = {
  Containers: "CONTAINERS",
  CreatedAt: "CREATED AT",
  CreatedSince: "CREATED",
  Digest: "DIGEST",
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  SharedSize: "SHARED SIZE",
  Size: "SIZE",
  Tag: "TAG",
  UniqueSize: "UNIQUE SIZE",
  VirtualSize: "SIZE",
};

export interface ImagesOptions {
  all?: boolean;
  quiet?: boolean;
  digests?: boolean;
  noTrunc?: boolean;
  trunc?: boolean;
  filter: Filters;
  format?: string;
}

export async function runImages(rt: Runtime, reference: string | undefined, opts: ImagesOptions): Promise<void> {
  const api = await rt.api();
  const rows = await api.listImages({ all: Boolean(opts.all), filters: opts.filter, ...(reference ? { reference } : {}) });
  const noTrunc = opts.noTrunc === true || opts.trunc === false;
  const items = rows.map((row) => imageContext(row, { noTrunc, now: rt.now() }));
  if (opts.quiet) {
    write(rt.io.stdout, items.map((i) => `${i.ID}\n`).join(""));
    return;
  }
  const field = (f: keyof ImageContext): Column<ImageContext> => ({ field: f, header: IMAGE_HEADERS[f] });
  const columns = [
    field("Repository"),
    field("Tag"),
    ...(opts.digests ? [field("Digest")] : []),
    field("ID"),
    field("CreatedSince"),
    field("Size"),
  ];
  write(rt.io.stdout, formatItems(opts.format, items, columns, IMAGE_HEADERS));
}

export function registerImages(parent: Command, rt: Runtime, name: string, aliases: string[] = []): Command {
  const cmd = parent
    .command(name)
    .aliases(aliases)
    .description("List images")
    .usage("[OPTIONS] [REPOSITORY[:TAG]]")
    .argument("[REPOSITORY[:TAG]]")
    .option("-a, --all", "Show all images (default hides intermediate images)")
    .option("--digests", "Show digests")
    .option("--no-trunc", "Don't truncate output")
    .option("-q, --quiet", "Only show image IDs")
    .option("--format <string>", "Format output using a custom template ('table', 'table TEMPLATE', 'json', or a Go template)");
  filterOption(cmd);
  return cmd.action(act(rt, (reference: string | undefined, opts: ImagesOptions) => runImages(rt, reference, opts)));
}
