import { createReadStream } from "node:fs";
import { parentPort } from "node:worker_threads";

import { Digest } from "../digest";
import { EngineError, DigestMismatchError, SizeMismatchError } from "../errors";
import { FsBlobStore } from "../fs-blob-store";
import { fetchBlobInto } from "./blob-fetch";
import type { FetchRequest, FromTransferThread, SendRequest, SerializedError, ToTransferThread } from "./transfer-protocol";
import { RegistryError } from "./errors";
import { readErrorBody, Transport, type TransportOptions } from "./transport";

/**
 * The transfer thread: moves blob bytes between sockets and the blob store exactly as the
 * caller's thread would (fetchBlobInto: resumable, verified, atomic; uploads streamed from the
 * blob file), but with this thread's small heap absorbing the garbage of a GiB of socket and
 * file reads. 401s go back to the owning client, which holds the credentials and token cache.
 */
const port = parentPort;
if (!port) throw new Error("transfer-worker.ts runs as a worker thread");

/** Progress is posted at most this often (bytes), so a GiB is ~1,000 messages, not 16,000. */
const PROGRESS_STEP = 1024 * 1024;
/** Answers to uploads are small (JSON errors at most); more is not read. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** File reads of 1 MiB, as the blob store's own reads. */
const READ_CHUNK_BYTES = 1024 * 1024;

const transports = new Map<string, Transport>();
const stores = new Map<string, FsBlobStore>();
const running = new Map<number, AbortController>();

class Unauthorized extends Error {
  constructor(readonly challenge: string | string[] | undefined) {
    super("unauthorized");
  }
}

function cached<T>(map: Map<string, T>, key: string, create: () => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

const transportFor = (options: TransportOptions) => cached(transports, JSON.stringify(options), () => new Transport(options));

/** Posts progress at most every PROGRESS_STEP bytes, the last figure and any restart at once. */
function progressOf(id: number, total?: number): (bytes: number) => void {
  let posted = 0;
  return (bytes) => {
    if (bytes < posted || bytes - posted >= PROGRESS_STEP || bytes === total) {
      posted = bytes;
      port!.postMessage({ type: "progress", id, bytes } satisfies FromTransferThread);
    }
  };
}

async function fetchBlob(req: FetchRequest, signal: AbortSignal): Promise<FromTransferThread> {
  const transport = transportFor(req.transport);
  const url = new URL(req.url);
  const result = await fetchBlobInto(
    async (headers, sig) => {
      const res = await transport.send({ method: "GET", url, headers, authorization: req.authorization, signal: sig, what: req.what });
      if (res.status === 401 && res.url.origin === url.origin) {
        await readErrorBody(res.body);
        throw new Unauthorized(res.headers["www-authenticate"]);
      }
      return res;
    },
    req.subject,
    Digest.parse(req.digest),
    {
      blobs: cached(stores, req.root, () => new FsBlobStore(req.root)),
      expectedSize: req.expectedSize,
      measureLayer: req.measureLayer,
      resumes: req.resumes,
      signal,
      onProgress: progressOf(req.id, req.expectedSize),
    },
  );
  const { layer } = result;
  return {
    type: "fetched",
    id: req.id,
    digest: result.digest.toString(),
    size: result.size,
    created: result.created,
    layer: layer && "diffId" in layer ? { ...layer, diffId: layer.diffId.toString() } : layer,
  };
}

async function send(req: SendRequest, signal: AbortSignal): Promise<FromTransferThread> {
  const { path, start, length } = req.file;
  const progress = progressOf(req.id, length);
  const res = await transportFor(req.transport).send({
    method: req.method,
    url: new URL(req.url),
    headers: req.headers,
    authorization: req.authorization,
    retries: req.retries,
    signal,
    what: req.what,
    body: {
      length,
      open() {
        if (length === 0) return Buffer.alloc(0);
        const stream = createReadStream(path, { start, end: start + length - 1, highWaterMark: READ_CHUNK_BYTES });
        let sent = 0;
        stream.on("data", (chunk) => progress((sent += chunk.length)));
        // Not flowing until the transport pipes it, so no chunk passes uncounted.
        stream.pause();
        return stream;
      },
    },
  });
  const body = (await readErrorBody(res.body, MAX_ANSWER_BYTES)) ?? Buffer.alloc(0);
  return { type: "answered", id: req.id, status: res.status, headers: { ...res.headers }, url: res.url.toString(), body };
}

function serialize(err: unknown): SerializedError {
  if (err instanceof Unauthorized) return { name: "Unauthorized", message: "unauthorized", challenge: err.challenge };
  if (!(err instanceof Error)) return { name: "Error", message: String(err) };
  const out: SerializedError = { name: err.name, message: err.message };
  if (err instanceof EngineError) out.code = err.code;
  if (err instanceof RegistryError) {
    out.kind = err.kind;
    out.details = err.details;
  }
  if (err instanceof DigestMismatchError || err instanceof SizeMismatchError) {
    out.expected = err.expected;
    out.actual = err.actual;
  }
  const errno = (err as NodeJS.ErrnoException).code;
  if (!out.code && typeof errno === "string") out.errno = errno;
  return out;
}

port.on("message", (msg: ToTransferThread) => {
  if (msg.type === "abort") {
    running.get(msg.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(msg.id, controller);
  void (msg.type === "fetch" ? fetchBlob(msg, controller.signal) : send(msg, controller.signal))
    .catch((err: unknown): FromTransferThread => ({ type: "failed", id: msg.id, error: serialize(err) }))
    .then((reply) => {
      running.delete(msg.id);
      port.postMessage(reply);
    });
});
