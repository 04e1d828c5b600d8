import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';

import type { BlobIngest, BlobStore } from '../blob-store';
import { Digest } from '../digest';

/**
 * Learns a layer's diff_id and uncompressed size while its bytes stream past, without a
 * second pass: the compression is sniffed from the first bytes (as the archive reader does,
 * not trusted from the media type) and gzip is decompressed alongside and hashed.
 * archive/store-member.ts has the same idea inline; its meter is not exported, so the pull
 * keeps this small one here rather than changing the archive reader.
 */
export type LayerMeasure =
  | { compression: 'gzip'; diffId: Digest; size: number }
  | { compression: 'gzip'; error: string }
  | { compression: 'none' }
  | { compression: 'zstd' };

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export class LayerMeter {
  private head = Buffer.alloc(0);
  private sniffed: 'gzip' | 'zstd' | 'none' | undefined;
  private z: Gunzip | undefined;
  private readonly hash = createHash('sha256');
  private size = 0;
  private error: string | undefined;
  private ended: Promise<void> | undefined;

  async write(chunk: Buffer): Promise<void> {
    if (this.sniffed === undefined) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 4) return;
      this.sniff(this.head);
      chunk = this.head;
      this.head = Buffer.alloc(0);
    }
    await this.feed(chunk);
  }

  async finish(): Promise<LayerMeasure> {
    if (this.sniffed === undefined) {
      // Fewer than 4 bytes in all: too short for gzip or zstd.
      this.sniff(this.head);
      await this.feed(this.head);
    }
    if (this.sniffed !== 'gzip') return { compression: this.sniffed ?? 'none' };
    const z = this.z!;
    if (this.error === undefined && !z.destroyed) z.end();
    await this.ended;
    if (this.error !== undefined) return { compression: 'gzip', error: this.error };
    return {
      compression: 'gzip',
      diffId: Digest.fromHex(this.hash.digest('hex')),
      size: this.size,
    };
  }

  destroy(): void {
    this.z?.destroy();
  }

  private sniff(head: Buffer): void {
    if (head[0] === 0x1f && head[1] === 0x8b) {
      this.sniffed = 'gzip';
      const z = createGunzip();
      z.on('data', (out: Buffer) => {
        this.hash.update(out);
        this.size += out.byteLength;
      });
      this.ended = new Promise((resolve) => {
        z.once('end', resolve);
        z.once('error', (err) => {
          this.error ??= err.message;
          resolve();
        });
      });
      this.z = z;
    } else {
      this.sniffed = head.subarray(0, 4).equals(ZSTD_MAGIC) ? 'zstd' : 'none';
    }
  }

  private async feed(chunk: Buffer): Promise<void> {
    const z = this.z;
    if (!z || chunk.length === 0 || this.error !== undefined || z.destroyed) return;
    if (!z.write(chunk)) {
      // An error ends the wait too: it is recorded by the "error" listener.
      await Promise.race([once(z, 'drain').catch(() => undefined), this.ended]);
    }
  }
}

/** Streams a stored blob through a meter (for layers already in the store). */
export async function measureStoredLayer(
  blobs: BlobStore,
  digest: Digest,
  signal?: AbortSignal,
): Promise<LayerMeasure> {
  const meter = new LayerMeter();
  const stream = await blobs.open(digest);
  const onAbort = () => stream.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) await meter.write(chunk as Buffer);
    return await meter.finish();
  } catch (err) {
    meter.destroy();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
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
      write: (chunk: Buffer, _encoding, callback) => {
        const accepted = target.write(chunk);
        Promise.all([accepted ? undefined : drained(target), this.meter.write(chunk)]).then(
          () => callback(),
          callback,
        );
      },
    });
  }

  get written(): number {
    return this.inner.written;
  }

  async commit(expected?: { digest?: Digest; size?: number }) {
    try {
      await finished(this.writable);
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
      writable.off('drain', done);
      writable.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    writable.once('drain', done);
    writable.once('error', done);
  });
}

function finished(writable: Writable): Promise<void> {
  if (writable.writableFinished) return Promise.resolve();
  if (writable.destroyed)
    return Promise.reject(new Error('ingest stream was destroyed before commit'));
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      writable.off('finish', onFinish);
      reject(err);
    };
    const onFinish = () => {
      writable.off('error', onError);
      resolve();
    };
    writable.once('error', onError);
    writable.once('finish', onFinish);
    if (!writable.writableEnded) writable.end();
  });
}
