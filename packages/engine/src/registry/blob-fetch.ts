import type { BlobStore } from "../blob-store";
import type { LayerMeasure } from "../layer-meter";
import type { Digest } from "../digest";
import { SizeMismatchError } from "../errors";
import { RegistryError, abortError, errorFromResponse } from "./errors";
import { isRetryableError, readErrorBody, type TransportResponse } from "./transport";

/**
 * Streams one blob from the registry into a BlobStore ingest and commits it with digest
 * (and size) verification. A dropped connection resumes with `Range` from the bytes
 * already written; any failure aborts the ingest, so the store never keeps a partial blob.
 */
export interface FetchBlobOptions {
  blobs: BlobStore;
  expectedSize?: number;
  /** Called with the total bytes received so far (restarts from 0 if the server ignores Range). */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /** How many times a dropped body is resumed; default 3. */
  resumes?: number;
  /** Also measure the blob as a layer while it streams (compression, diff_id, size): see `layer`. */
  measureLayer?: boolean;
  /**
   * Move the bytes on a worker thread (default true where the store allows it): a pull's
   * socket reads then cost the server's large heap nothing. See transfer-thread.ts.
   */
  offThread?: boolean;
}

export interface FetchBlobResult {
  digest: Digest;
  size: number;
  /** False when the store already had the blob (nothing was downloaded). */
  created: boolean;
  /** With `measureLayer`, what the downloaded bytes decompress to; absent when nothing was downloaded. */
  layer?: LayerMeasure;
}

/** Sends `GET /v2/<repo>/blobs/<digest>` with the extra headers (Range); auth and retries are the caller's. */
export type BlobRequest = (headers: Record<string, string>, signal?: AbortSignal) => Promise<TransportResponse>;

export async function fetchBlobInto(
  request: BlobRequest,
  subject: string,
  digest: Digest,
  options: FetchBlobOptions,
): Promise<FetchBlobResult> {
  const { blobs, expectedSize, onProgress, signal } = options;
  const maxResumes = options.resumes ?? 3;
  const existing = await blobs.stat(digest);
  if (existing && (expectedSize === undefined || existing.size === expectedSize)) {
    return { digest, size: existing.size, created: false };
  }

  const ingestOptions = { measureLayer: options.measureLayer ?? false };
  let ingest = await blobs.ingest(ingestOptions);
  try {
    let resumes = 0;
    // Bytes handed to the ingest (its own `written` lags behind while writes are buffered).
    let received = 0;
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const offset = received;
      const res = await request(offset > 0 ? { range: `bytes=${offset}-` } : {}, signal);
      if (res.status !== 200 && res.status !== 206) {
        throw errorFromResponse(res.status, await readErrorBody(res.body), subject);
      }
      if (offset > 0 && res.status === 200) {
        // The server ignored Range: start over in a fresh ingest.
        await ingest.abort();
        ingest = await blobs.ingest(ingestOptions);
        received = 0;
      } else if (res.status === 206) {
        const start = /^bytes (\d+)-/.exec(res.headers["content-range"] ?? "")?.[1];
        if (Number(start) !== offset) {
          res.body.destroy();
          throw new RegistryError("protocol", `registry sent the wrong range for ${subject} (asked from byte ${offset})`);
        }
      }
      const length = res.headers["content-length"] ? Number(res.headers["content-length"]) : undefined;
      const base = received;
      try {
        await copyBody(res, ingest.writable, (n) => {
          const total = base + n;
          received = total;
          if (expectedSize !== undefined && total > expectedSize) {
            throw new SizeMismatchError(`blob ${subject}`, expectedSize, total);
          }
          onProgress?.(total);
        });
        if (length !== undefined && received - base < length) {
          throw Object.assign(new Error("connection closed before the blob was complete"), {
            code: "ECONNRESET",
          });
        }
        break;
      } catch (err) {
        if (signal?.aborted) throw abortError(signal);
        if (!isDroppedBody(err) || resumes >= maxResumes) throw wrapDropped(err, subject);
        resumes++;
      }
    }
    const { size, created, layer } = await ingest.commit({ digest, size: expectedSize });
    return layer ? { digest, size, created, layer } : { digest, size, created };
  } finally {
    await ingest.abort();
  }
}

/** Pipes the response into the ingest without ending it, honouring back-pressure. */
async function copyBody(res: TransportResponse, writable: NodeJS.WritableStream, onBytes: (n: number) => void): Promise<void> {
  let n = 0;
  try {
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      n += buf.byteLength;
      onBytes(n);
      if (!writable.write(buf)) {
        await new Promise<void>((resolve, reject) => {
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
    }
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
}

function isDroppedBody(err: unknown): boolean {
  if (isRetryableError(err)) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ERR_STREAM_PREMATURE_CLOSE" || (err instanceof Error && err.message === "aborted");
}

function wrapDropped(err: unknown, subject: string): unknown {
  if (err instanceof RegistryError || !isDroppedBody(err) || !(err instanceof Error)) return err;
  return new RegistryError("unavailable", `download of ${subject} failed: ${err.message}`);
}
