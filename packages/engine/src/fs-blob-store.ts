import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rm, stat, link, rename, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";

import type { BlobIngest, BlobStore, IngestOptions, IngestResult } from "./blob-store";
import { Digest } from "./digest";
import { BlobNotFoundError, DigestMismatchError, EngineError, InvalidArgumentError, SizeMismatchError } from "./errors";
import { OffThreadHasher, POOLED_BYTES, takeBuffer } from "./hash-worker";
import { toLayerMeasure } from "./layer-meter";
import { finishWritable } from "./streams";

const HEX_RE = /^[a-f0-9]{64}$/;

/**
 * BlobStore over a directory: `<root>/blobs/sha256/<hex>` holds complete, verified blobs;
 * `<root>/ingest/<random>` holds writes in progress. Ingest and blobs share a filesystem,
 * so moving a finished write into place is one atomic link or rename.
 */
export class FsBlobStore implements BlobStore {
  readonly blobDir: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobDir = join(root, "blobs", "sha256");
    this.ingestDir = join(root, "ingest");
  }

  pathOf(digest: Digest): string {
    return join(this.blobDir, digest.hex);
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  async stat(digest: Digest): Promise<{ size: number } | undefined> {
    try {
      return { size: (await stat(this.pathOf(digest))).size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async open(digest: Digest, range?: { start: number; end?: number }): Promise<Readable> {
    // Open first so a missing blob rejects here rather than as a stream error later.
    const handle = await this.openBlob(digest);
    try {
      if (!range) return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
      const { size } = await handle.stat();
      const end = Math.min(range.end ?? size, size);
      if (!Number.isSafeInteger(range.start) || range.start < 0 || range.start > size || end < range.start) {
        throw new InvalidArgumentError(`range ${range.start}-${range.end ?? ""} is outside blob ${digest.toString()} of ${size} bytes`);
      }
      if (end === range.start) {
        await handle.close();
        return Readable.from([]);
      }
      // createReadStream's end is inclusive; ours is exclusive.
      return handle.createReadStream({ start: range.start, end: end - 1, highWaterMark: READ_CHUNK_BYTES });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async read(digest: Digest, maxBytes: number): Promise<Buffer> {
    const handle = await this.openBlob(digest);
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) {
        throw new EngineError("TOO_LARGE", `blob ${digest.toString()} is ${size} bytes, more than the ${maxBytes} bytes allowed here`);
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async ingest(options: IngestOptions = {}): Promise<BlobIngest> {
    await mkdir(this.ingestDir, { recursive: true });
    const path = join(this.ingestDir, randomBytes(16).toString("hex"));
    const handle = await open(path, "wx", 0o644);
    return new FsIngest(this, path, handle, options.measureLayer ?? false);
  }

  async put(data: Uint8Array): Promise<Digest> {
    const ingest = await this.ingest();
    try {
      await new Promise<void>((resolve, reject) => {
        ingest.writable.on("error", reject);
        ingest.writable.end(data, () => resolve());
      });
      return (await ingest.commit()).digest;
    } finally {
      await ingest.abort();
    }
  }

  async delete(digest: Digest): Promise<void> {
    try {
      await unlink(this.pathOf(digest));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async *list(): AsyncIterable<{ digest: Digest; size: number }> {
    let names: string[];
    try {
      names = await readdir(this.blobDir);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const name of names.sort()) {
      if (!HEX_RE.test(name)) continue;
      const digest = Digest.fromHex(name);
      const found = await this.stat(digest);
      if (found) yield { digest, size: found.size };
    }
  }

  async check(): Promise<void> {
    await mkdir(this.ingestDir, { recursive: true });
    const probe = join(this.ingestDir, `probe-${randomBytes(8).toString("hex")}`);
    const handle = await open(probe, "wx");
    try {
      await handle.writeFile("probe");
      await handle.sync();
    } finally {
      await handle.close();
      await rm(probe, { force: true });
    }
  }

  /**
   * Removes ingest files left by writes that never finished (a crash, a killed upload).
   * Run at start-up; `olderThanMs` keeps writes of a still-running process alive.
   */
  async cleanIngests(olderThanMs: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.ingestDir);
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of names) {
      const path = join(this.ingestDir, name);
      try {
        if ((await stat(path)).mtimeMs < cutoff) {
          await rm(path, { force: true });
          removed++;
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return removed;
  }

  private async openBlob(digest: Digest): Promise<FileHandle> {
    try {
      return await open(this.pathOf(digest), "r");
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(digest.toString());
      throw err;
    }
  }
}

const INGEST_BUFFER_BYTES = POOLED_BYTES;
/**
 * Reads of 1 MiB rather than the default 64 KiB: a push or a save of a GiB makes 16 times fewer
 * thread-pool round trips and socket writes.
 */
const READ_CHUNK_BYTES = 1024 * 1024;
/**
 * Written bytes after which a background fdatasync starts. Without it a large blob sits in the
 * page cache until commit, which then waits for all of it to reach the disk (seconds for a GiB on
 * a slow volume); flushing while the rest still arrives overlaps the disk with the network.
 */
const EARLY_SYNC_BYTES = 16 * 1024 * 1024;

/** One write in progress: bytes are hashed (on a worker thread) as they go to the ingest file. */
class FsIngest implements BlobIngest {
  readonly writable: Writable;
  private readonly hash: OffThreadHasher;
  private bytes = 0;
  private settled = false;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  /** The pooled buffer being filled, and how much of it is. */
  private filling: Buffer | undefined;
  private filled = 0;

  constructor(
    private readonly store: FsBlobStore,
    private readonly path: string,
    private readonly handle: FileHandle,
    private readonly measureLayer: boolean,
  ) {
    this.hash = new OffThreadHasher({ raw: true, layer: measureLayer });
    // Network uploads arrive in 16–64 KiB chunks; one write syscall each (through the thread
    // pool) halves throughput. A deep buffer lets chunks queue while a write is in flight, and
    // writev copies them into the pooled buffer being filled, in one write call.
    this.writable = new Writable({
      highWaterMark: INGEST_BUFFER_BYTES,
      write: (chunk: Buffer, _encoding, callback) => this.take([chunk], callback),
      writev: (chunks, callback) =>
        this.take(
          chunks.map((c) => c.chunk as Buffer),
          callback,
        ),
    });
  }

  /**
   * Copies the chunks into pooled buffers, writes them to the file, and hands each buffer to
   * the hasher once it is full (the last one at commit). Filling one buffer across many small
   * writes, instead of a fresh one per write, keeps a GiB of uploads from allocating (and V8
   * from collecting) gigabytes of buffers.
   */
  private take(chunks: Buffer[], callback: (err?: Error | null) => void): void {
    // One write per pooled buffer touched: the chunks copied into it are contiguous there.
    const segments: { buffer: Buffer; start: number; end: number }[] = [];
    const full: Buffer[] = [];
    let bytes = 0;
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.byteLength;) {
        this.filling ??= takeBuffer(POOLED_BYTES);
        const start = this.filled;
        const n = chunk.copy(this.filling, start, at);
        at += n;
        this.filled += n;
        const last = segments.at(-1);
        if (last?.buffer === this.filling && last.end === start) last.end = this.filled;
        else segments.push({ buffer: this.filling, start, end: this.filled });
        if (this.filled === this.filling.byteLength) {
          full.push(this.filling);
          this.filling = undefined;
          this.filled = 0;
        }
      }
      bytes += chunk.byteLength;
    }
    this.bytes += bytes;
    (async () => {
      for (const { buffer, start, end } of segments) await writeAll(this.handle, buffer.subarray(start, end));
      // Written, so the hasher may have them (transferred as they are).
      for (const buffer of full) await this.hash.write(buffer, true);
    })().then(() => this.wrote(bytes, callback), callback);
  }

  get written(): number {
    return this.bytes;
  }

  /** After each write: starts a background flush once enough bytes wait in the page cache. */
  private wrote(bytes: number, callback: (err?: Error | null) => void): void {
    this.unsynced += bytes;
    if (this.unsynced >= EARLY_SYNC_BYTES && !this.syncing) {
      this.unsynced = 0;
      // Its failure is not lost: commit's own fdatasync reports the same error.
      this.syncing = this.handle.datasync().then(
        () => (this.syncing = undefined),
        () => (this.syncing = undefined),
      );
    }
    callback();
  }

  async commit(expected?: { digest?: Digest; size?: number }): Promise<IngestResult> {
    if (this.settled) throw new Error("ingest already committed or aborted");
    try {
      await finishWritable(this.writable);
      if (this.filling) {
        await this.hash.write(this.filling.subarray(0, this.filled), true);
        this.filling = undefined;
      }
      const hashed = await this.hash.finish();
      if ("error" in hashed || !hashed.raw) throw new Error(`hashing the blob failed: ${"error" in hashed ? hashed.error : "no digest"}`);
      const digest = Digest.fromHex(hashed.raw.hex);
      const size = this.bytes;
      if (expected?.size !== undefined && expected.size !== size) {
        throw new SizeMismatchError("blob", expected.size, size);
      }
      if (expected?.digest && !expected.digest.equals(digest)) {
        throw new DigestMismatchError("blob", expected.digest.toString(), digest.toString());
      }
      // Durable before visible: a blob under blobs/ must survive a crash whole. fdatasync
      // covers the bytes and the size; the name is made durable by syncing the directory.
      await this.syncing;
      await this.handle.datasync();
      await this.handle.close();
      this.settled = true;
      const created = await this.moveIntoPlace(digest);
      return this.measureLayer
        ? { digest, size, created, layer: toLayerMeasure(hashed.layer ?? { compression: "none" }) }
        : { digest, size, created };
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (!this.writable.destroyed) this.writable.destroy();
    this.hash.destroy();
    if (!this.settled) {
      this.settled = true;
      await this.syncing;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.path, { force: true });
  }

  /**
   * link() fails with EEXIST when the blob is already there, which tells concurrent
   * writers of the same content apart: exactly one of them reports created=true.
   * Filesystems without hard links fall back to rename over the (identical) file.
   */
  private async moveIntoPlace(digest: Digest): Promise<boolean> {
    const target = this.store.pathOf(digest);
    await mkdir(this.store.blobDir, { recursive: true });
    let created: boolean;
    try {
      await link(this.path, target);
      created = true;
      await unlink(this.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") {
        created = false;
        await unlink(this.path);
      } else if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP") {
        created = !(await this.store.has(digest));
        await rename(this.path, target);
      } else {
        throw err;
      }
    }
    if (created) await syncDir(this.store.blobDir);
    return created;
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}
