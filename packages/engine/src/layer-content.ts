import type { Digest } from "./digest";
import type { LayerMeasure } from "./layer-meter";

/** What a layer blob holds: the diff_id and size of its uncompressed tar, or why that is unknown. */
export type LayerContent = { diffId: Digest; size: number } | { unreadable: string };

/**
 * The one rule every path that measured a blob (pulls, pushes, the layer check) reads a layer's
 * content by: a plain tar is its own diff_id; gzip gives what it decompressed to; anything else
 * (zstd, which Berth does not decompress, or broken gzip) says why, phrased to follow the layer's name.
 */
export function layerContent(measure: LayerMeasure, blob: { digest: Digest; size: number }): LayerContent {
  switch (measure.compression) {
    case "none":
      return { diffId: blob.digest, size: blob.size };
    case "zstd":
      return { unreadable: "is zstd-compressed, which this version cannot decompress" };
    case "gzip":
      return "error" in measure ? { unreadable: `is not valid gzip (${measure.error})` } : { diffId: measure.diffId, size: measure.size };
  }
}
