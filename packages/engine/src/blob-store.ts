import type { Readable } from "node:stream";
import type { Digest } from "./digest";
import type { LayerMeasure } from "./layer-meter";

/**
 * Content-addressable storage for blobs (layers, configs, manifests).
 * A blob is either complete and verified, or absent: writers go through an ingest
 * that is committed only when the bytes match the expected digest and size.
 * Implementations: a directory on a volume now, S3-compatible object storage later.
 */
export interface BlobStore {
  has(digest: Digest): Promise<boolean>;
  /** Size in bytes, or undefined when the blob is absent. */
  stat(digest: Digest): Promise<{ size: number } | undefined>;
  /** Streams the blob; rejects with BlobNotFoundError when absent. `range` is inclusive-exclusive. */
  open(digest: Digest, range?: { start: number; end?: number }): Promise<Readable>;
  /** Reads a small blob whole; rejects when it is larger than maxBytes. */
  read(digest: Digest, maxBytes: number): Promise<Buffer>;
  /**
   * Starts a write. The digest of what was written is computed as it streams; with
   * `measureLayer`, so is what a layer's bytes decompress to (commit returns it as `layer`).
   */
  ingest(options?: IngestOptions): Promise<BlobIngest>;
  /** Stores bytes in one call; returns the digest. Writing a blob that exists is a no-op. */
  put(data: Uint8Array): Promise<Digest>;
  /** Removes a blob; absent blobs are ignored. */
  delete(digest: Digest): Promise<void>;
  /** Every stored blob with its size. */
  list(): AsyncIterable<{ digest: Digest; size: number }>;
  /** Throws when the store cannot be written (used by the health check). */
  check(): Promise<void>;
}

export interface IngestOptions {
  /** Also learn the compression and, for gzip, the diff_id and size (LayerMeter does it for any store). */
  measureLayer?: boolean;
}

export interface IngestResult {
  digest: Digest;
  size: number;
  /** Whether the blob was newly created (false: it was there already). */
  created: boolean;
  /** Present when the ingest was started with `measureLayer`. */
  layer?: LayerMeasure;
}

export interface BlobIngest {
  /** Node writable the bytes are piped into; hashing happens as they pass. */
  readonly writable: NodeJS.WritableStream;
  /** Bytes written so far. */
  readonly written: number;
  /**
   * Finishes the write: verifies size and digest when given, fsyncs and renames into place.
   * Returns the digest of the bytes written and whether the blob was newly created.
   * On mismatch the ingest file is removed and DigestMismatchError / SizeMismatchError is thrown.
   */
  commit(expected?: { digest?: Digest; size?: number }): Promise<IngestResult>;
  /** Discards the ingest file. Safe to call more than once or after commit. */
  abort(): Promise<void>;
}
