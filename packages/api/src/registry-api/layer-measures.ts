import type { Digest, LayerMeasure } from "@berth/engine";
import type { Services } from "../context";

/**
 * Layer measures learnt while blobs were uploaded: a gzip layer's diff_id and uncompressed size,
 * computed on the hash worker as the bytes streamed in. The manifest PUT that names the layer
 * then checks it against the config without reading the blob again (a second pass over a GiB).
 */
export async function rememberLayerMeasure(services: Services, blob: Digest, layer: LayerMeasure | undefined): Promise<void> {
  if (!layer || layer.compression !== "gzip" || !("diffId" in layer)) return;
  await services.db.layerMeasure.upsert({
    where: { blob: blob.toString() },
    create: { blob: blob.toString(), diffId: layer.diffId.toString(), size: BigInt(layer.size) },
    update: {},
  });
}

export async function knownLayerMeasure(services: Services, blob: Digest): Promise<{ diffId: string; size: number } | undefined> {
  const row = await services.db.layerMeasure.findUnique({ where: { blob: blob.toString() } });
  return row ? { diffId: row.diffId, size: Number(row.size) } : undefined;
}
