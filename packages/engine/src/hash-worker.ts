import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * Hashes a stream on a worker thread: its bytes (a blob's digest), and/or, when it turns out to
 * be gzip, its decompressed bytes (a layer's diff_id and size). Hashing and decompressing took
 * over half of a pull's main-thread time, and the main thread is what a pull or a load is bound
 * by (it also parses the HTTP or tar stream and drives the writes). One stream can do both from
 * the same bytes, so a pulled layer crosses to the worker once. Chunks are batched, and buffers
 * the caller hands over are transferred, not copied.
 */
export interface HashOptions {
  /** sha256 and length of the bytes as given. */
  raw: boolean;
  /** Sniff the compression from the first bytes; for gzip, sha256 and length of the decompressed bytes. */
  layer: boolean;
}

/** What the layer sniffing found; `error` when gzip did not decompress cleanly. */
export type LayerHash =
  { compression: "gzip"; hex: string; size: number } | { compression: "gzip"; error: string } | { compression: "zstd" | "none" };

export type StreamHash = { raw?: { hex: string; size: number }; layer?: LayerHash } | { error: string };

const BATCH_BYTES = 1024 * 1024;
/** Posted but not yet hashed: beyond this, writers wait (backpressure). */
const IN_FLIGHT_BYTES = 8 * 1024 * 1024;
const GUNZIP_CHUNK_BYTES = 512 * 1024;

// CommonJS source evaluated by the worker: no loader or build step is involved, so it runs the
// same under the server, the CLI and the tests.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createGunzip } = require("node:zlib");
const { createHash } = require("node:crypto");
const streams = new Map();

function sniff(l, head) {
  if (head[0] === 0x1f && head[1] === 0x8b) {
    l.compression = "gzip";
    const z = createGunzip({ chunkSize: ${GUNZIP_CHUNK_BYTES} });
    l.z = z;
    l.hash = createHash("sha256");
    l.size = 0;
    l.ended = new Promise((resolve) => {
      z.on("data", (out) => { l.hash.update(out); l.size += out.length; });
      z.on("drain", () => release(l));
      z.on("end", resolve);
      z.on("error", (err) => { l.error ??= err.message; z.destroy(); release(l); resolve(); });
    });
  } else {
    const zstd = head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd;
    l.compression = zstd ? "zstd" : "none";
  }
}
function release(l) {
  const acks = l.waiting;
  l.waiting = [];
  for (const ack of acks) ack();
}
function feedLayer(l, buf, ack, giveBack) {
  if (l.compression === undefined) {
    l.head.push(buf);
    l.headLength += buf.length;
    if (l.headLength < 4) return ack();
    buf = Buffer.concat(l.head);
    l.head = [];
    sniff(l, buf);
  }
  if (!l.z || l.error !== undefined) { giveBack(); return ack(); }
  // The buffer goes back only once zlib is done with it (its write callback), not at the ack.
  if (l.z.write(buf, giveBack)) ack();
  else l.waiting.push(ack);
}
async function finish(id, s) {
  const l = s.layer;
  let layer;
  if (l) {
    if (l.compression === undefined) {
      const head = Buffer.concat(l.head);
      sniff(l, head);
      if (l.z && head.length > 0) l.z.write(head);
    }
    if (l.z && l.error === undefined) { l.z.end(); await l.ended; }
    layer = l.compression !== "gzip" ? { compression: l.compression }
      : l.error !== undefined ? { compression: "gzip", error: l.error }
      : { compression: "gzip", hex: l.hash.digest("hex"), size: l.size };
  }
  if (s.aborted) return;
  streams.delete(id);
  parentPort.postMessage({ type: "result", id, result: { raw: s.hash ? { hex: s.hash.digest("hex"), size: s.size } : undefined, layer } });
}
parentPort.on("message", (m) => {
  if (m.type === "start") {
    streams.set(m.id, {
      hash: m.raw ? createHash("sha256") : undefined,
      size: 0,
      layer: m.layer ? { compression: undefined, head: [], headLength: 0, waiting: [] } : undefined,
    });
  } else if (m.type === "data") {
    const s = streams.get(m.id);
    const ack = () => parentPort.postMessage({ type: "ack", id: m.id, bytes: m.length });
    let given = false;
    const giveBack = () => {
      if (given || !m.recycle) return;
      given = true;
      parentPort.postMessage({ type: "recycle", chunk: m.chunk }, [m.chunk]);
    };
    if (!s) { giveBack(); return ack(); }
    const buf = Buffer.from(m.chunk, 0, m.length);
    if (s.hash) { s.hash.update(buf); s.size += buf.length; }
    if (s.layer) feedLayer(s.layer, buf, ack, giveBack);
    else { giveBack(); ack(); }
  } else if (m.type === "end") {
    const s = streams.get(m.id);
    if (s) void finish(m.id, s);
  } else if (m.type === "abort") {
    const s = streams.get(m.id);
    if (!s) return;
    s.aborted = true;
    streams.delete(m.id);
    if (s.layer && s.layer.z) s.layer.z.destroy();
  }
});
`;

type WorkerMessage =
  { type: "ack"; id: number; bytes: number } | { type: "result"; id: number; result: StreamHash } | { type: "recycle"; chunk: ArrayBuffer };

/**
 * Buffers that travel to the worker and come back once hashed. Every new buffer counts as
 * external memory, and V8 answers each few dozen MiB of it with a full mark-compact whose cost
 * grows with the heap (in the server, 50–100 ms each); pooling the blob store's write buffers
 * removes half of a pull's new external memory (the rest is the HTTP client's reads).
 */
export const POOLED_BYTES = 4 * 1024 * 1024;
const spare: ArrayBuffer[] = [];
const MAX_SPARE = 4;

function recycle(chunk: ArrayBuffer): void {
  if (chunk.byteLength === POOLED_BYTES && spare.length < MAX_SPARE) spare.push(chunk);
}

/** A buffer of `size` bytes to fill and hand over (`write(…, true)`); pooled up to POOLED_BYTES. */
export function takeBuffer(size: number): Buffer {
  if (size > POOLED_BYTES) return Buffer.allocUnsafeSlow(size);
  return Buffer.from(spare.pop() ?? new ArrayBuffer(POOLED_BYTES), 0, size);
}

interface Pending {
  onAck(bytes: number): void;
  onResult(result: StreamHash): void;
}

/** One worker serving many streams at once, told apart by id. */
class HasherThread {
  readonly worker: Worker;
  readonly streams = new Map<number, Pending>();
  dead: Error | undefined;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    // Idle workers must not keep a CLI or a test process alive.
    this.worker.unref();
    this.worker.on("message", (m: WorkerMessage) => {
      if (m.type === "recycle") return recycle(m.chunk);
      const stream = this.streams.get(m.id);
      if (!stream) return;
      if (m.type === "ack") stream.onAck(m.bytes);
      else {
        this.streams.delete(m.id);
        stream.onResult(m.result);
      }
    });
    const fail = (err: Error) => {
      this.dead ??= err;
      for (const [id, stream] of this.streams) {
        this.streams.delete(id);
        stream.onResult({ error: `hash worker stopped: ${err.message}` });
      }
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`exit code ${code}`)));
  }
}

const threads: HasherThread[] = [];
let nextId = 1;

/** The least busy live worker; up to one per core. */
function pickThread(): HasherThread {
  for (let i = threads.length - 1; i >= 0; i--) if (threads[i]!.dead) threads.splice(i, 1);
  const idle = threads.find((t) => t.streams.size === 0);
  if (idle) return idle;
  if (threads.length < Math.max(1, availableParallelism())) {
    const thread = new HasherThread();
    threads.push(thread);
    return thread;
  }
  return threads.reduce((a, b) => (b.streams.size < a.streams.size ? b : a));
}

export class OffThreadHasher {
  private readonly id = nextId++;
  private readonly thread = pickThread();
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private inFlight = 0;
  private waiter: (() => void) | undefined;
  private readonly result: Promise<StreamHash>;
  private settled: StreamHash | undefined;

  constructor(options: HashOptions) {
    this.result = new Promise<StreamHash>((resolve) => {
      this.thread.streams.set(this.id, {
        onAck: (bytes) => {
          this.inFlight -= bytes;
          if (this.inFlight <= IN_FLIGHT_BYTES / 2) this.wake();
        },
        onResult: (result) => {
          this.settled = result;
          this.wake();
          resolve(result);
        },
      });
    });
    this.thread.worker.ref();
    this.thread.worker.postMessage({ type: "start", id: this.id, raw: options.raw, layer: options.layer });
  }

  /**
   * Resolves when the caller may write more. The chunk must not change afterwards; with
   * `handOver` the caller gives up a buffer it owns, which may be transferred as it is.
   * A failed stream swallows its input.
   */
  async write(chunk: Buffer, handOver = false): Promise<void> {
    if (this.settled) return;
    if (handOver && this.batchBytes === 0 && chunk.byteOffset === 0 && chunk.buffer instanceof ArrayBuffer) {
      this.post(chunk.buffer, chunk.byteLength);
    } else {
      this.batch.push(chunk);
      this.batchBytes += chunk.byteLength;
      if (this.batchBytes >= BATCH_BYTES) this.flush();
    }
    while (this.inFlight > IN_FLIGHT_BYTES && !this.settled) {
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  async finish(): Promise<StreamHash> {
    if (!this.settled) {
      this.flush();
      this.thread.worker.postMessage({ type: "end", id: this.id });
    }
    try {
      return await this.result;
    } finally {
      this.release();
    }
  }

  destroy(): void {
    if (!this.settled) {
      this.settled = { error: "destroyed" };
      this.thread.worker.postMessage({ type: "abort", id: this.id });
      this.thread.streams.delete(this.id);
      this.wake();
    }
    this.release();
  }

  private flush(): void {
    if (this.batchBytes === 0 || this.settled) return;
    // A copy (concat copies even one buffer): the batched buffers stay their owners'.
    const data = Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    this.post(owns(data) ? data.buffer : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), data.byteLength);
  }

  /** Transfers `chunk`, of which the first `length` bytes are data; pooled buffers come back. */
  private post(chunk: ArrayBuffer, length: number): void {
    this.inFlight += length;
    const recycle = chunk.byteLength === POOLED_BYTES;
    this.thread.worker.postMessage({ type: "data", id: this.id, chunk, length, recycle }, [chunk]);
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  private release(): void {
    if (this.thread.streams.size === 0) this.thread.worker.unref();
  }
}

/** Whether a buffer is its whole ArrayBuffer (not a slice of Node's pool), so it can be transferred. */
function owns(buf: Buffer): boolean {
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer;
}
