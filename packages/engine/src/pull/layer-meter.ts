import { Writable } from "node:stream";

import type { BlobIngest, BlobStore } from "../blob-store";
import type { Digest } from "../digest";
import { LayerMeter, type LayerMeasure } from "../layer-meter";
import { finishWritable } from "../streams";

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
 * A BlobStore that passes everything to `inner` but meters what is written through its
 * ingests, so the registry client's verified, resumable `fetchBlob` can be used unchanged.
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
    return new MeteredIngest(await this.inner.ingest(), (m) => (this.measured = m));
  }
}

class MeteredIngest implements BlobIngest {
  readonly writable: Writable;
  private readonly meter = new LayerMeter();

  constructor(
    private readonly inner: BlobIngest,
    private readonly onCommitted: (measure: LayerMeasure) => void,
  ) {
    const target = inner.writable;
    this.writable = new Writable({
      // As deep as the ingest's: a network chunk need not wait for the previous one's write.
      highWaterMark: 4 * 1024 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        const accepted = target.write(chunk);
        Promise.all([accepted ? undefined : drained(target), this.meter.write(chunk)]).then(() => callback(), callback);
      },
    });
  }

  get written(): number {
    return this.inner.written;
  }

  async commit(expected?: { digest?: Digest; size?: number }) {
    try {
      await finishWritable(this.writable);
      const measure = await this.meter.finish();
      // The inner commit checks digest and size; only bytes that pass are measured.
      const result = await this.inner.commit(expected);
      this.onCommitted(measure);
      return result;
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (!this.writable.destroyed) this.writable.destroy();
    this.meter.destroy();
    await this.inner.abort();
  }
}

function drained(writable: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      writable.off("drain", done);
      writable.off("error", done);
      if (err) reject(err);
      else resolve();
    };
    writable.once("drain", done);
    writable.once("error", done);
  });
}
