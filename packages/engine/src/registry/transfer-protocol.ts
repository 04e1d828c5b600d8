import type { LayerMeasure } from "../layer-meter";
import type { HttpMethod, TransportOptions } from "./transport";

/** Messages between the caller's thread and the transfer thread (transfer-thread.ts, transfer-worker.ts). */

/** Download a blob into an FsBlobStore (fetchBlobInto on the thread). */
export interface FetchRequest {
  type: "fetch";
  id: number;
  /** Absolute blob URL (`…/v2/<repo>/blobs/<digest>`). */
  url: string;
  /** Sent to the URL's origin only; dropped by redirects that leave it. */
  authorization?: string;
  transport: TransportOptions;
  /** FsBlobStore root the blob is committed into. */
  root: string;
  digest: string;
  expectedSize?: number;
  measureLayer: boolean;
  resumes?: number;
  /** `repo@digest`, for messages. */
  subject: string;
  /** `repo@digest on host`, for transport messages. */
  what: string;
}

/** Send one request whose body is a range of a local file (an upload); the answer comes back buffered. */
export interface SendRequest {
  type: "send";
  id: number;
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  authorization?: string;
  transport: TransportOptions;
  retries?: number;
  file: { path: string; start: number; length: number };
  what: string;
}

export type ToTransferThread = FetchRequest | SendRequest | { type: "abort"; id: number };

export type FromTransferThread =
  /** Bytes received (fetch) or sent (send) so far. */
  | { type: "progress"; id: number; bytes: number }
  | { type: "fetched"; id: number; digest: string; size: number; created: boolean; layer?: WireLayerMeasure }
  | { type: "answered"; id: number; status: number; headers: Record<string, string | string[] | undefined>; url: string; body: Uint8Array }
  | { type: "failed"; id: number; error: SerializedError };

/** A LayerMeasure with its diff_id as a string (a Digest loses its class crossing threads). */
export type WireLayerMeasure = Exclude<LayerMeasure, { diffId: unknown }> | { compression: "gzip"; diffId: string; size: number };

/** An error as it crosses threads: enough to rebuild the engine error it was. */
export interface SerializedError {
  name: string;
  message: string;
  /** EngineError code. */
  code?: string;
  /** Node's error code (ECONNRESET, ENOSPC, …) for other errors. */
  errno?: string;
  /** RegistryError kind and details. */
  kind?: string;
  details?: { status?: number; registryCode?: string };
  /** SizeMismatchError / DigestMismatchError fields. */
  expected?: string | number;
  actual?: string | number;
  /** A 401's `WWW-Authenticate`, for the owning client to answer. */
  challenge?: string | string[];
}
