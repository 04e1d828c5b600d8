import type { BlobStore } from "../blob-store";
import type { Digest } from "../digest";
import type { MetadataStore } from "../metadata";

export interface GcBlobsOptions {
  meta: MetadataStore;
  blobs: BlobStore;
  /** Blobs that may have lost their last user (from removeImages / pruneImages). */
  candidates: readonly Digest[];
}

export interface GcBlobsResult {
  deleted: Digest[];
  bytesFreed: number;
}

/** Deletes the candidate blobs no image uses any more as a layer or config. */
export async function gcBlobs({ meta, blobs, candidates }: GcBlobsOptions): Promise<GcBlobsResult> {
  const seen = new Set<string>();
  const deleted: Digest[] = [];
  let bytesFreed = 0;
  for (const digest of candidates) {
    if (seen.has(digest.hex)) continue;
    seen.add(digest.hex);
    if (await meta.isBlobReferenced(digest)) continue;
    const stat = await blobs.stat(digest);
    if (!stat) continue;
    await blobs.delete(digest);
    await meta.forgetBlob?.(digest);
    deleted.push(digest);
    bytesFreed += stat.size;
  }
  return { deleted, bytesFreed };
}
