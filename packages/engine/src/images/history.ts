import type { BlobStore } from "../blob-store";
import type { MetadataStore } from "../metadata";
import { readConfig } from "./config-fields";
import { tagFamiliarString } from "./graph";
import { resolveImage } from "./resolve";

/** One row of `docker history`, newest first. */
export interface HistoryRow {
  /** `sha256:…` for the image (and locally built parents still present), otherwise `<missing>`. */
  id: string;
  created: Date | null;
  /** CREATED BY: tabs become spaces; cut to 45 characters with `…` unless `noTrunc`. */
  createdBy: string;
  /** Uncompressed size of the layer the step produced; 0 for `empty_layer` steps. */
  size: number;
  comment: string;
  /** Tags of the image in `id` (familiar form). */
  tags: string[];
}

export interface ImageHistoryOptions {
  meta: MetadataStore;
  blobs: BlobStore;
  ref: string;
  noTrunc?: boolean;
}

/** docker/cli formatter.Ellipsis: cut to `max` display characters, the last one being `…`. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return "";
  const chars = [...s];
  if (max === 1) return chars[0] ?? "";
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join("")}…`;
}

/** `docker history <ref>`. */
export async function imageHistory({ meta, blobs, ref, noTrunc = false }: ImageHistoryOptions): Promise<HistoryRow[]> {
  const image = await resolveImage({ meta, ref });
  const config = await readConfig(blobs, image.id);
  const rows: HistoryRow[] = [];
  let layerIndex = 0;
  for (const h of config.history ?? []) {
    let size = 0;
    if (!h.empty_layer) {
      size = image.layers[layerIndex]?.size ?? 0;
      layerIndex++;
    }
    const created = h.created ? new Date(h.created) : null;
    const createdBy = (h.created_by ?? "").replace(/\t/g, " ");
    rows.unshift({
      id: "<missing>",
      created: created && !Number.isNaN(created.getTime()) ? created : null,
      createdBy: noTrunc ? createdBy : ellipsis(createdBy, 45),
      size,
      comment: h.comment ?? "",
      tags: [],
    });
  }
  // The top row is the image; walking parentId names the rows of locally built parents.
  let current: typeof image | undefined = image;
  for (const row of rows) {
    if (!current) break;
    row.id = current.id.toString();
    row.tags = (await meta.listTags({ imageId: current.id })).map(tagFamiliarString).sort();
    current = current.parentId ? await meta.getImage(current.parentId) : undefined;
  }
  return rows;
}
