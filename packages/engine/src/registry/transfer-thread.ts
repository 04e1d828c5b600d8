import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";

import type { BlobStore } from "../blob-store";
import { Digest } from "../digest";
import { DigestMismatchError, EngineError, SizeMismatchError, type EngineErrorCode } from "../errors";
import { FsBlobStore } from "../fs-blob-store";
import type { FetchBlobResult } from "./blob-fetch";
import type { FetchRequest, FromTransferThread, SendRequest, SerializedError } from "./transfer-protocol";
import { RegistryError, abortError, type RegistryErrorKind } from "./errors";
import type { TransportRequest, TransportResponse } from "./transport";

/**
 * Blob transfers on a worker thread. Every socket read and file read allocates a fresh buffer;
 * in the server, whose heap holds the API, the database client and caches, each few dozen MiB
 * of them cost a garbage collection of that whole heap, on the very thread that reads the
 * socket, so a pull of a GiB ran a third slower there than in a bare process. The transfer
 * thread's heap is a few MiB. Auth stays with the RegistryClient: a 401 comes back as
 * TransferUnauthorized (downloads) or as the 401 answer itself (uploads).
 */
export interface TransferOptions {
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

/** The registry answered a download with 401: the client answers the challenge and asks again. */
export class TransferUnauthorized extends Error {
  constructor(readonly challenge: string | string[] | undefined) {
    super("unauthorized");
  }
}

/** The thread could not start (or died): the caller moves the bytes on its own thread instead. */
export class TransferThreadUnavailable extends Error {}

type Final = Exclude<FromTransferThread, { type: "progress" }>;
type Message = Omit<FetchRequest, "id"> | Omit<SendRequest, "id">;

interface Pending {
  onMessage(msg: FromTransferThread): void;
  onDead(err: Error): void;
}

class TransferThread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Whether the thread ever answered: one that died before could not start here. */
  private answered = false;

  constructor(source: string) {
    this.worker = new Worker(source, { eval: true });
    // An idle thread must not keep a CLI or a test process alive.
    this.worker.unref();
    this.worker.on("message", (msg: FromTransferThread) => {
      this.answered = true;
      this.pending.get(msg.id)?.onMessage(msg);
    });
    const dead = (err: Error) => {
      if (thread === this) thread = undefined;
      if (!this.answered) broken ??= err.message;
      for (const p of this.pending.values()) p.onDead(err);
      this.pending.clear();
    };
    this.worker.on("error", dead);
    this.worker.on("exit", (code) => dead(new Error(`transfer thread exited with code ${code}`)));
  }

  /** Resolves with the final message, once the thread is done with the transfer (its ingest removed or committed). */
  run(message: Message, opts: TransferOptions): Promise<Final> {
    const id = this.nextId++;
    const { signal } = opts;
    return new Promise<Final>((resolve, reject) => {
      const onAbort = () => this.worker.postMessage({ type: "abort", id });
      const settle = () => {
        signal?.removeEventListener("abort", onAbort);
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
      };
      this.pending.set(id, {
        onMessage: (msg) => {
          if (msg.type === "progress") return opts.onProgress?.(msg.bytes);
          settle();
          // A committed blob is reported even when aborted meanwhile: the caller must know of it.
          if (msg.type === "failed") return reject(signal?.aborted ? abortError(signal) : rebuild(msg.error));
          resolve(msg);
        },
        onDead: (err) => {
          settle();
          reject(new TransferThreadUnavailable(err.message));
        },
      });
      this.worker.ref();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.worker.postMessage({ ...message, id });
    });
  }
}

let thread: TransferThread | undefined;
let broken: string | undefined;
let bundled: Promise<string> | undefined;

/**
 * The thread's code as one plain-JS file. The engine is TypeScript run through a loader, which a
 * worker thread does not inherit from its parent in Node 20; registering the loader again in the
 * worker would cost it a loader thread of its own (tens of MiB). Built once per process.
 */
function workerSource(): Promise<string> {
  bundled ??= build({
    entryPoints: [fileURLToPath(new URL("./transfer-worker.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
    logLevel: "silent",
  }).then((out) => out.outputFiles[0]!.text);
  return bundled;
}

async function startedThread(): Promise<TransferThread> {
  if (broken !== undefined) throw new TransferThreadUnavailable(broken);
  if (!thread) {
    let source: string;
    try {
      source = await workerSource();
    } catch (err) {
      broken ??= err instanceof Error ? err.message : String(err);
      throw new TransferThreadUnavailable(broken);
    }
    thread ??= new TransferThread(source);
  }
  return thread;
}

async function runOnThread(message: Message, opts: TransferOptions): Promise<Final> {
  if (opts.signal?.aborted) throw abortError(opts.signal);
  return (await startedThread()).run(message, opts);
}

/**
 * Builds and starts the transfer thread now rather than on the first transfer, which would
 * otherwise wait for the bundling (a server calls this at boot). Never throws: a thread that
 * cannot start is reported by the first transfer, which then runs on the caller's thread.
 */
export async function warmTransferThread(): Promise<void> {
  await startedThread().catch(() => undefined);
}

/** Where a download can be committed from the thread: stores that are a local directory. */
export function offThreadRoot(blobs: BlobStore): string | undefined {
  return broken === undefined && blobs instanceof FsBlobStore ? blobs.root : undefined;
}

/** The file holding a blob, for uploads sent from the thread; undefined for other stores. */
export function localBlobFile(blobs: BlobStore, digest: Digest): string | undefined {
  return broken === undefined && blobs instanceof FsBlobStore ? blobs.pathOf(digest) : undefined;
}

/** fetchBlobInto on the thread, into the FsBlobStore at `req.root`. */
export async function fetchOffThread(
  req: Omit<FetchRequest, "type" | "id" | "url" | "digest"> & { url: URL; digest: Digest },
  opts: TransferOptions = {},
): Promise<FetchBlobResult> {
  const { url, digest, ...rest } = req;
  const msg = await runOnThread({ ...rest, type: "fetch", url: url.toString(), digest: digest.toString() }, opts);
  if (msg.type !== "fetched") throw new Error(`transfer thread answered ${msg.type} to a fetch`);
  const result: FetchBlobResult = { digest: Digest.parse(msg.digest), size: msg.size, created: msg.created };
  const { layer } = msg;
  if (!layer) return result;
  return { ...result, layer: "diffId" in layer ? { ...layer, diffId: Digest.parse(layer.diffId) } : layer };
}

/** Transport.send of a request whose body is a file range, from the thread; the answer is buffered. */
export async function sendOffThread(
  req: TransportRequest & { body: { file: { path: string; start: number } } },
  transport: SendRequest["transport"],
): Promise<TransportResponse> {
  const { body } = req;
  const msg = await runOnThread(
    {
      type: "send",
      method: req.method,
      url: req.url.toString(),
      headers: req.headers ?? {},
      authorization: req.authorization,
      transport,
      retries: req.retries,
      file: { path: body.file.path, start: body.file.start, length: body.length },
      what: req.what,
    },
    { signal: req.signal, onProgress: body.onSent },
  );
  if (msg.type !== "answered") throw new Error(`transfer thread answered ${msg.type} to a send`);
  return { status: msg.status, headers: msg.headers, body: Readable.from([Buffer.from(msg.body)]), url: new URL(msg.url) };
}

const MISMATCH: Record<string, typeof DigestMismatchError | typeof SizeMismatchError> = {
  DigestMismatchError,
  SizeMismatchError,
};

/** The engine error the thread threw, rebuilt with its class, code and message. */
function rebuild(e: SerializedError): Error {
  if (e.name === "Unauthorized") return new TransferUnauthorized(e.challenge);
  if (e.kind) {
    const err = new RegistryError(e.kind as RegistryErrorKind, e.message, e.details);
    err.name = e.name;
    return err;
  }
  if (e.code && e.name in MISMATCH) {
    const err = Object.setPrototypeOf(new EngineError(e.code as EngineErrorCode, e.message), MISMATCH[e.name]!.prototype) as Error;
    Object.assign(err, { name: e.name, expected: e.expected, actual: e.actual });
    return err;
  }
  const err = e.code ? new EngineError(e.code as EngineErrorCode, e.message) : new Error(e.message);
  err.name = e.name;
  if (e.errno) Object.assign(err, { code: e.errno });
  return err;
}
