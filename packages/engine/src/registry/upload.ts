import type { Readable } from "node:stream";

import { Digest } from "../digest";
import { pullScope, pushScope, scopes } from "./auth";
import { RegistryError, errorFromResponse } from "./errors";
import { readErrorBody, type HttpMethod, type RequestBody, type TransportResponse } from "./transport";

/**
 * The push side of the Distribution API: blob existence, upload sessions (plain or as a
 * cross-repository mount), monolithic and chunked uploads, and manifests. Each function takes
 * the client's authenticated `send`, so auth, retries and the base URL stay in one place.
 */
export interface UploadCall {
  method: HttpMethod;
  /** A path on the registry, or an absolute URL the registry sent (an upload Location). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: RequestBody;
  retries?: number;
  scope: string;
  what: string;
  signal?: AbortSignal;
  /** An upload Location may point at another host (storage behind the registry): allowed, without our credentials. */
  anyHost?: boolean;
}

export type Send = (call: UploadCall) => Promise<TransportResponse>;

/** A blob to upload: its size and a way to stream any byte range of it (end exclusive). */
export interface BlobSource {
  size: number;
  open(range: { start: number; end: number }): Promise<Readable>;
  /** The local file holding the blob, when there is one: then it is sent from the transfer thread. */
  file?: string;
}

export interface UploadOptions {
  /** Bytes per PATCH; absent: one monolithic PUT. */
  chunkSize?: number;
  /** Bytes of the blob sent so far (restarts when a request is sent again). */
  onProgress?(sent: number): void;
  signal?: AbortSignal;
}

/** Where an upload goes on: the registry mounted the blob, or gave an upload session. */
export type UploadStart = { mounted: true } | { mounted: false; location: string };

const OCTET_STREAM = "application/octet-stream";

/** `HEAD` of a blob in the repository pushed to: true when it is there. */
export async function blobExists(send: Send, repo: string, digest: Digest, signal?: AbortSignal): Promise<boolean> {
  const subject = `${repo}@${digest.toString()}`;
  const res = await send({
    method: "HEAD",
    path: `/v2/${repo}/blobs/${digest.toString()}`,
    scope: pushScope(repo),
    what: subject,
    signal,
  });
  res.body.resume();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw errorFromResponse(res.status, undefined, subject);
}

/**
 * `POST /v2/<repo>/blobs/uploads/`, with `?mount=<digest>&from=<repo>` when a mount is asked
 * for: 201 means the registry linked the blob from the other repository; 202 opens an upload
 * session (also how a registry declines a mount).
 */
export async function startUpload(
  send: Send,
  repo: string,
  opts: { mount?: { digest: Digest; from: string }; signal?: AbortSignal } = {},
): Promise<UploadStart> {
  const { mount } = opts;
  const what = mount ? `mount of ${mount.digest.toString()} from ${mount.from} into ${repo}` : `upload to ${repo}`;
  const res = await send({
    method: "POST",
    path: `/v2/${repo}/blobs/uploads/`,
    query: mount ? { mount: mount.digest.toString(), from: mount.from } : undefined,
    scope: mount ? scopes(pushScope(repo), pullScope(mount.from)) : pushScope(repo),
    what,
    signal: opts.signal,
  });
  if (res.status === 201 && mount) {
    res.body.resume();
    return { mounted: true };
  }
  if (res.status !== 202) throw errorFromResponse(res.status, await readErrorBody(res.body), what);
  res.body.resume();
  return { mounted: false, location: locationOf(res, what) };
}

/**
 * Sends a blob into an upload session and completes it with `PUT ?digest=`. Monolithic: one
 * PUT carrying the body. Chunked: PATCHes of `chunkSize` bytes with Content-Range, each
 * answered with the next Location, then an empty PUT. Bodies stream from `source`.
 */
export async function uploadBlob(
  send: Send,
  repo: string,
  location: string,
  digest: Digest,
  source: BlobSource,
  opts: UploadOptions = {},
): Promise<void> {
  const subject = `${repo}@${digest.toString()}`;
  const chunkSize = opts.chunkSize;
  if (chunkSize !== undefined && (!Number.isSafeInteger(chunkSize) || chunkSize < 1)) {
    throw new RegistryError("invalid", `upload chunk size must be a positive integer, got ${chunkSize}`);
  }
  let next = location;
  let final: UploadCall;
  if (chunkSize === undefined) {
    final = {
      method: "PUT",
      path: next,
      query: { digest: digest.toString() },
      headers: { "content-type": OCTET_STREAM },
      body: counted(source, 0, source.size, (n) => opts.onProgress?.(n)),
      retries: 0,
      scope: pushScope(repo),
      what: `upload of ${subject}`,
      signal: opts.signal,
      anyHost: true,
    };
  } else {
    for (let start = 0; start < source.size; start += chunkSize) {
      const end = Math.min(start + chunkSize, source.size);
      const what = `upload of ${subject} (bytes ${start}-${end - 1})`;
      const res = await send({
        method: "PATCH",
        path: next,
        headers: { "content-type": OCTET_STREAM, "content-range": `${start}-${end - 1}` },
        body: counted(source, start, end, (n) => opts.onProgress?.(n)),
        retries: 0,
        scope: pushScope(repo),
        what,
        signal: opts.signal,
        anyHost: true,
      });
      if (res.status !== 202) throw errorFromResponse(res.status, await readErrorBody(res.body), what);
      res.body.resume();
      const range = res.headers.range;
      if (typeof range === "string" && range !== `0-${end - 1}` && range !== `bytes=0-${end - 1}`) {
        throw new RegistryError("protocol", `registry acknowledged ${range} after ${what}, expected 0-${end - 1}`);
      }
      next = locationOf(res, what);
    }
    final = {
      method: "PUT",
      path: next,
      query: { digest: digest.toString() },
      retries: 0,
      scope: pushScope(repo),
      what: `completing the upload of ${subject}`,
      signal: opts.signal,
      anyHost: true,
    };
  }
  const res = await send(final);
  if (res.status !== 201) throw errorFromResponse(res.status, await readErrorBody(res.body), final.what);
  res.body.resume();
  checkDigestHeader(res, digest, subject);
}

/** Drops an upload session after a failure (best effort: the registry purges stale ones anyway). */
export async function cancelUpload(send: Send, repo: string, location: string): Promise<void> {
  try {
    const res = await send({
      method: "DELETE",
      path: location,
      retries: 0,
      scope: pushScope(repo),
      what: `cancelling an upload to ${repo}`,
      anyHost: true,
      signal: AbortSignal.timeout(5_000),
    });
    res.body.resume();
  } catch {
    // ignored: the push has already failed for a better reason
  }
}

/** `PUT /v2/<repo>/manifests/<reference>`; returns the digest the registry stored it under. */
export async function putManifest(
  send: Send,
  repo: string,
  reference: string,
  manifest: { mediaType: string; bytes: Buffer },
  signal?: AbortSignal,
): Promise<Digest> {
  const digest = Digest.of(manifest.bytes);
  const subject = Digest.tryParse(reference) ? `${repo}@${reference}` : `${repo}:${reference}`;
  const res = await send({
    method: "PUT",
    path: `/v2/${repo}/manifests/${reference}`,
    headers: { "content-type": manifest.mediaType },
    body: { length: manifest.bytes.length, open: () => manifest.bytes },
    scope: pushScope(repo),
    what: `manifest ${subject}`,
    signal,
  });
  if (res.status !== 201 && res.status !== 200) throw errorFromResponse(res.status, await readErrorBody(res.body), `manifest ${subject}`);
  res.body.resume();
  checkDigestHeader(res, digest, `manifest ${subject}`);
  return digest;
}

// --- helpers ---------------------------------------------------------------------------

/** The upload's next URL: `Location` resolved against the request (relative or absolute), its query kept. */
function locationOf(res: TransportResponse, what: string): string {
  const location = res.headers.location;
  if (!location) throw new RegistryError("protocol", `registry sent no Location for ${what}`);
  try {
    return new URL(location, res.url).toString();
  } catch {
    throw new RegistryError("protocol", `registry sent an invalid Location for ${what}`);
  }
}

function checkDigestHeader(res: TransportResponse, expected: Digest, subject: string): void {
  const header = res.headers["docker-content-digest"];
  if (typeof header !== "string" || header === "") return;
  const got = Digest.tryParse(header.trim());
  if (got && !got.equals(expected)) {
    throw new RegistryError("protocol", `registry stored ${subject} as ${got.toString()}, not ${expected.toString()}`);
  }
}

/** A request body for bytes [start, end) of the source, reporting the blob's progress as it is read. */
function counted(source: BlobSource, start: number, end: number, onProgress?: (sent: number) => void): RequestBody {
  return {
    length: end - start,
    file: source.file === undefined ? undefined : { path: source.file, start },
    onSent: onProgress && ((n) => onProgress(start + n)),
    async open() {
      const stream = await source.open({ start, end });
      let sent = start;
      // A listener beside the transport's pipe: counting costs no extra stream in the way.
      if (onProgress) {
        stream.on("data", (chunk: Buffer) => onProgress((sent += chunk.length)));
        // Not flowing until the transport pipes it: no chunk may pass before the request takes it.
        stream.pause();
      }
      return stream;
    },
  };
}
