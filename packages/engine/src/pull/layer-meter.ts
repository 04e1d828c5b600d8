import type { BlobIngest, BlobStore } from "../blob-store";
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

/**
 * A BlobStore that passes everything to `inner` but has its ingests measure what they store as a
 * layer, so the registry client's verified, resumable `fetchBlob` can be used unchanged.
 * `measured` is the measure of the last ingest that committed.
 */
export class MeteringBlobStore implements BlobStore {
  measured: LayerMeasure | undefined;

  constructor(private readonly inner: BlobStore) {}

  has(digest: Digest) {
    return this.inner.has(digest);
  }
  stat(digest: Digest) {
    return this.inner.stat(digest);
  }
  open(digest: Digest, range?: { start: number; end?: number }) {
    return this.inner.open(digest, range);
  }
  read(digest: Digest, maxBytes: number) {
    return this.inner.read(digest, maxBytes);
  }
  put(data: Uint8Array) {
    return this.inner.put(data);
  }
  delete(digest: Digest) {
    return this.inner.delete(digest);
  }
  list() {
    return this.inner.list();
  }
  check() {
    return this.inner.check();
  }

  async ingest(): Promise<BlobIngest> {
    const ingest = await this.inner.ingest({ measureLayer: true });
    return {
      writable: ingest.writable,
      get written() {
        return ingest.written;
      },
      commit: async (expected) => {
        const result = await ingest.commit(expected);
        // The store measured the bytes it verified: only a committed blob is measured.
        this.measured = result.layer;
        return result;
      },
      abort: () => ingest.abort(),
    };
  }
}
