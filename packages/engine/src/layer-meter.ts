import { Digest } from "./digest";
import { OffThreadHasher, type LayerHash } from "./hash-worker";

/**
 * Learns a layer's diff_id and uncompressed size while its bytes stream past, without a
 * second pass: the compression is sniffed from the first bytes (as the archive reader does,
 * not trusted from the media type) and gzip is decompressed alongside and hashed, on a worker
 * thread (hash-worker.ts).
 * Used by the archive reader (any member may turn out to be a layer) and by pulls.
 */
export type LayerMeasure =
  | { compression: "gzip"; diffId: Digest; size: number }
  | { compression: "gzip"; error: string }
  | { compression: "none" }
  | { compression: "zstd" };

export class LayerMeter {
  private readonly hasher = new OffThreadHasher({ raw: false, layer: true });

  write(chunk: Buffer): Promise<void> {
    return chunk.length > 0 ? this.hasher.write(chunk) : Promise.resolve();
  }

  async finish(): Promise<LayerMeasure> {
    const result = await this.hasher.finish();
    if ("error" in result) return { compression: "gzip", error: result.error };
    return toLayerMeasure(result.layer ?? { compression: "none" });
  }

  destroy(): void {
    this.hasher.destroy();
  }
}

export function toLayerMeasure(layer: LayerHash): LayerMeasure {
  if (layer.compression !== "gzip") return { compression: layer.compression };
  if ("error" in layer) return { compression: "gzip", error: layer.error };
  return { compression: "gzip", diffId: Digest.fromHex(layer.hex), size: layer.size };
}
