import type { Digest } from "../digest";
import { InvalidArgumentError } from "../errors";
import type { ImageRecord, MetadataStore } from "../metadata";
import { type FilterArgs, getBool, matchKVList, parseTimestamp, validateFilters } from "./filters";
import { compareStrings, createdMs, loadGraph } from "./graph";
import { blobsOf } from "./remove";

export interface PruneImagesOptions {
  meta: MetadataStore;
  /**
   * `-a`: every untagged image, not only dangling ones. Tagged images (so every protected tag) and
   * pinned images are never pruned.
   */
  all?: boolean;
  /** `until=<timestamp|duration>`, `label=k[=v]`, `label!=k[=v]`, `dangling=true|false`. */
  filters?: FilterArgs;
  /** Report what would be deleted without deleting. */
  dryRun?: boolean;
  now?: Date;
}

export interface PruneImagesResult {
  /** Image IDs deleted (or that would be). */
  deleted: string[];
  /** Tags removed; always empty since tagged images are never pruned (kept for docker's report shape). */
  untagged: string[];
  /** Images the prune would have deleted but keeps, with why (`pinned`). */
  skipped: { id: string; reason: string }[];
  /** Uncompressed bytes of layers (by diffId) that no remaining image uses. */
  spaceReclaimed: number;
  blobsToCheck: Digest[];
}

const ACCEPTED = ["dangling", "label", "label!", "until"];

/**
 * `docker image prune`. Dangling images are untagged and not the parent of another image;
 * with `all`, every untagged image. Deleting an image also removes its untagged parent once
 * no other image needs it, as `docker rmi` does.
 */
export async function pruneImages({
  meta,
  all = false,
  filters = {},
  dryRun = false,
  now,
}: PruneImagesOptions): Promise<PruneImagesResult> {
  validateFilters(filters, ACCEPTED);
  const danglingOnly = !all && getBool(filters, "dangling", true);
  const untilValues = filters.until ?? [];
  if (untilValues.length > 1) throw new InvalidArgumentError("more than one until filter specified");
  const until = untilValues[0] !== undefined ? parseTimestamp(untilValues[0], now).getTime() : undefined;

  const graph = await loadGraph(meta);
  const remaining = new Map(graph.images);
  const childCount = new Map<string, number>();
  for (const [hex, set] of graph.children) childCount.set(hex, set.size);
  // An image a tagged index lists counts as tagged: the index needs it.
  const indexed = new Set((await meta.imagesInIndexes?.())?.map((d) => d.hex));
  const tagged = (image: ImageRecord): boolean => (graph.tagsByImage.get(image.id.hex)?.length ?? 0) > 0 || indexed.has(image.id.hex);

  const matches = (image: ImageRecord): boolean => {
    if (until !== undefined && (!image.created || image.created.getTime() > until)) return false;
    if (!matchKVList(filters.label, image.labels)) return false;
    if (filters["label!"]?.length && matchKVList(filters["label!"], image.labels)) return false;
    return true;
  };

  const candidates = [...graph.images.values()]
    .filter((image) => !tagged(image) && matches(image))
    .filter((image) => !danglingOnly || (childCount.get(image.id.hex) ?? 0) === 0)
    .sort((a, b) => createdMs(b) - createdMs(a) || compareStrings(a.id.hex, b.id.hex));

  const deleted: ImageRecord[] = [];
  const skipped = new Map<string, { id: string; reason: string }>();
  const remove = (image: ImageRecord): void => {
    if (!remaining.has(image.id.hex)) return;
    if (image.pinned) {
      // Reported, so the person pruning learns why the image stays.
      skipped.set(image.id.hex, { id: image.id.toString(), reason: "pinned" });
      return;
    }
    remaining.delete(image.id.hex);
    deleted.push(image);
    const parentHex = image.parentId?.hex;
    if (!parentHex) return;
    const left = (childCount.get(parentHex) ?? 1) - 1;
    childCount.set(parentHex, left);
    const parent = remaining.get(parentHex);
    // The untagged parent goes with its last child, as ImageDelete's prune step does.
    if (parent && left === 0 && !tagged(parent)) remove(parent);
  };
  for (const image of candidates) remove(image);

  const remainingLayers = new Set<string>();
  for (const image of remaining.values()) for (const layer of image.layers) remainingLayers.add(layer.diffId.hex);
  const freed = new Map<string, number>();
  for (const image of deleted) {
    for (const layer of image.layers) if (!remainingLayers.has(layer.diffId.hex)) freed.set(layer.diffId.hex, layer.size);
  }
  const spaceReclaimed = [...freed.values()].reduce((a, b) => a + b, 0);

  const released: Digest[] = [];
  if (!dryRun) {
    // Children before parents, so no deleted image is still named as a parent when it goes.
    for (const image of deleted) released.push(...((await meta.deleteImage(image.id)) ?? []));
  }
  return {
    deleted: deleted.map((i) => i.id.toString()),
    untagged: [],
    skipped: [...skipped.values()],
    spaceReclaimed,
    blobsToCheck: dryRun ? [] : blobsOf(deleted, released),
  };
}
