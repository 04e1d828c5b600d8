import type { MetadataStore } from "../metadata";
import { humanSize } from "../format/units";
import { compareStrings, createdMs, hasChildren, loadGraph, tagsOf } from "./graph";
import { distinctLayerBytes, layerUsage, sharedAndUnique } from "./sizes";
import { familiarRepository } from "../reference";

export interface DiskUsageImageRow {
  repository: string;
  tag: string;
  id: string;
  created: Date | null;
  size: number;
  sharedSize: number;
  uniqueSize: number;
  /** Always 0: Berth runs no containers. */
  containers: number;
}

export interface DiskUsage {
  images: {
    /** Images as `docker images` counts them (intermediate untagged parents excluded). */
    total: number;
    /** Tagged images. */
    active: number;
    /** Uncompressed bytes of all layers, each shared layer counted once. */
    size: number;
    /** Bytes of layers no tagged image uses. */
    reclaimable: number;
  };
  /** Per image, with `verbose`. */
  rows?: DiskUsageImageRow[];
}

export interface DiskUsageOptions {
  meta: MetadataStore;
  verbose?: boolean;
}

/** `docker system df` (images part); `verbose` adds per-image SHARED SIZE / UNIQUE SIZE rows. */
export async function diskUsage({ meta, verbose = false }: DiskUsageOptions): Promise<DiskUsage> {
  const graph = await loadGraph(meta);
  const images = [...graph.images.values()];
  const listed = images.filter((i) => tagsOf(graph, i.id).length > 0 || !hasChildren(graph, i.id));
  const active = images.filter((i) => tagsOf(graph, i.id).length > 0);
  const size = distinctLayerBytes(images);
  const reclaimable = size - distinctLayerBytes(active);
  const result: DiskUsage = { images: { total: listed.length, active: active.length, size, reclaimable } };
  if (verbose) {
    const usage = layerUsage(images);
    const rows: DiskUsageImageRow[] = [];
    for (const image of listed.sort((a, b) => createdMs(b) - createdMs(a) || compareStrings(a.id.hex, b.id.hex))) {
      const { shared, unique } = sharedAndUnique(image, usage);
      const base = {
        id: image.id.toString(),
        created: image.created,
        size: image.size,
        sharedSize: shared,
        uniqueSize: unique,
        containers: 0,
      };
      const tags = tagsOf(graph, image.id);
      if (tags.length === 0) rows.push({ repository: "<none>", tag: "<none>", ...base });
      for (const tag of tags) rows.push({ repository: familiarRepository(tag.repository), tag: tag.tag, ...base });
    }
    result.rows = rows;
  }
  return result;
}

/** docker's RECLAIMABLE column: `1.2MB (45%)`. */
export function formatReclaimable(reclaimable: number, total: number): string {
  if (total > 0) return `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)`;
  return humanSize(reclaimable);
}
