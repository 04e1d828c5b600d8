import { createHash } from "node:crypto";
import { once } from "node:events";
import { createGunzip, type Gunzip } from "node:zlib";

import type { BlobStore } from "../blob-store";
import { Digest } from "../digest";
import { DigestMismatchError, SizeMismatchError } from "../errors";

/** What the reader learned about a member while streaming it into the blob store. */
export interface StoredMember {
  digest: Digest;
  size: number;
  created: boolean;
  /** Sniffed from the first bytes, not trusted from any media type. */
  compression: "gzip" | "zstd" | "none";
  /** Digest and size of the decompressed bytes, for gzip members that decompressed cleanly. */
  uncompressed?: { digest: Digest; size: number };
  /** Why a gzip member could not be decompressed; only an error if it is used as a layer. */
  gzipError?: string;
  /** The bytes, kept only when the caller asked (small JSON members). */
  bytes?: Buffer;
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * Streams one member into the store. Every member may turn out to be a layer (which one
 * is only known once manifest.json is read, often at the end), so gzip members are
 * decompressed alongside to learn their diff_id without a second pass.
 */
export async function storeMember(
  name: string,
  body: AsyncIterable<Buffer>,
  opts: { blobs: BlobStore; expectedDigest?: Digest; expectedSize?: number; keepBytes?: boolean; signal?: AbortSignal },
): Promise<StoredMember> {
  const ingest = await opts.blobs.ingest();
  const kept: Buffer[] = [];
  let head = Buffer.alloc(0);
  let gunzip: UncompressedMeter | undefined;
  let sniffed = false;
  try {
    for await (const chunk of body) {
      opts.signal?.throwIfAborted();
      if (opts.keepBytes) kept.push(chunk);
      if (!sniffed) {
        head = Buffer.concat([head, chunk]).subarray(0, 4);
        if (head.length >= 4) {
          sniffed = true;
          if (head[0] === 0x1f && head[1] === 0x8b) gunzip = new UncompressedMeter();
        }
      }
      if (!ingest.writable.write(chunk)) await once(ingest.writable as NodeJS.EventEmitter, "drain");
      if (gunzip) await gunzip.write(chunk);
    }
    const uncompressed = gunzip ? await gunzip.finish() : undefined;
    let result;
    try {
      result = await ingest.commit({ digest: opts.expectedDigest, size: opts.expectedSize });
    } catch (err) {
      if (err instanceof DigestMismatchError) {
        throw new DigestMismatchError(`member "${name}" does not match its name`, err.expected, err.actual);
      }
      if (err instanceof SizeMismatchError) throw new SizeMismatchError(`member "${name}"`, err.expected, err.actual);
      throw err;
    }
    const member: StoredMember = {
      ...result,
      compression: gunzip ? "gzip" : head.equals(ZSTD_MAGIC) ? "zstd" : "none",
    };
    if (uncompressed && "digest" in uncompressed) member.uncompressed = uncompressed;
    else if (uncompressed) member.gzipError = uncompressed.error;
    if (opts.keepBytes) member.bytes = Buffer.concat(kept);
    return member;
  } catch (err) {
    gunzip?.destroy();
    await ingest.abort();
    throw err;
  }
}

/** Feeds a gunzip and hashes what comes out; a decompression error is recorded, not thrown. */
class UncompressedMeter {
  private readonly z: Gunzip = createGunzip();
  private readonly hash = createHash("sha256");
  private size = 0;
  private error: string | undefined;
  private readonly ended: Promise<void>;

  constructor() {
    this.z.on("data", (chunk: Buffer) => {
      this.hash.update(chunk);
      this.size += chunk.byteLength;
    });
    this.ended = new Promise((resolve) => {
      this.z.once("end", resolve);
      this.z.once("error", (err) => {
        this.error ??= err.message;
        resolve();
      });
    });
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.error !== undefined || this.z.destroyed) return;
    if (!this.z.write(chunk)) {
      // An error ends the wait too: it is recorded by the "error" listener above.
      await Promise.race([once(this.z, "drain").catch(() => undefined), this.ended]);
    }
  }

  async finish(): Promise<{ digest: Digest; size: number } | { error: string }> {
    if (this.error === undefined && !this.z.destroyed) this.z.end();
    await this.ended;
    if (this.error !== undefined) return { error: this.error };
    return { digest: Digest.fromHex(this.hash.digest("hex")), size: this.size };
  }

  destroy(): void {
    this.z.destroy();
  }
}
