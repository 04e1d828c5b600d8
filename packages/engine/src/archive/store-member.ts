import { once } from "node:events";

import type { BlobStore } from "../blob-store";
import { type Digest } from "../digest";
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
  const ingest = await opts.blobs.ingest({ measureLayer: true });
  const kept: Buffer[] = [];
  try {
    for await (const chunk of body) {
      opts.signal?.throwIfAborted();
      if (opts.keepBytes) kept.push(chunk);
      if (!ingest.writable.write(chunk)) await once(ingest.writable as NodeJS.EventEmitter, "drain");
    }
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
    const { layer: measure = { compression: "none" }, ...stored } = result;
    const member: StoredMember = { ...stored, compression: measure.compression };
    if ("diffId" in measure) member.uncompressed = { digest: measure.diffId, size: measure.size };
    else if ("error" in measure) member.gzipError = measure.error;
    if (opts.keepBytes) member.bytes = Buffer.concat(kept);
    return member;
  } catch (err) {
    await ingest.abort();
    throw err;
  }
}
