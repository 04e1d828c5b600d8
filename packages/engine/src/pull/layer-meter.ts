import type { BlobStore } from "../blob-store";
import type { Digest } from "../digest";
import { LayerMeter, type LayerMeasure } from "../layer-meter";

export type { LayerMeasure };

/** Streams a stored blob through a meter (for layers already in the store). */
export async function measureStoredLayer(blobs: BlobStore, digest: Digest, signal?: AbortSignal): Promise<LayerMeasure> {
  const meter = new LayerMeter();
  const stream = await blobs.open(digest);
  const onAbort = () => stream.destroy(signal?.reason as Error);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of stream) await meter.write(chunk as Buffer);
    return await meter.finish();
  } catch (err) {
    meter.destroy();
    throw err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    stream.destroy();
  }
}
