import { open, type FileHandle } from "node:fs/promises";
import type http from "node:http";

/**
 * A response whose body is a byte range of a local file (a blob), sent by reading into a few
 * recycled buffers rather than a stream that allocates a fresh one per read. In the server each
 * MiB of fresh buffers is external memory V8 answers with garbage collections of the whole heap;
 * with 20 clients pulling a GiB each that was a tenth of the server's time. A buffer is read into
 * again only once the socket is done with it (the write's callback).
 */
export interface FileBody {
  path: string;
  start: number;
  /** Exclusive. */
  end: number;
}

const fileBodies = new WeakMap<Response, FileBody>();

export function fileResponse(body: FileBody, init: ResponseInit): Response {
  const response = new Response(null, init);
  fileBodies.set(response, body);
  return response;
}

export function fileBodyOf(response: Response): FileBody | undefined {
  return fileBodies.get(response);
}

const CHUNK_BYTES = 1024 * 1024;
/** Buffers in flight per response: one being read, the others queued on the socket. */
const PER_RESPONSE = 3;
const spare: Buffer[] = [];
const MAX_SPARE = 16;

const take = () => spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
const give = (buf: Buffer) => {
  if (spare.length < MAX_SPARE) spare.push(buf);
};

/** Sends the file range as the response body; resolves when it is sent or the client has gone. */
export async function sendFile(res: http.ServerResponse, body: FileBody): Promise<void> {
  let handle: FileHandle | undefined;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const settled = () => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  // A client gone mid-body: its pending writes may never call back.
  res.once("close", () => wake?.());
  try {
    handle = await open(body.path, "r");
    for (let at = body.start; at < body.end && !res.destroyed;) {
      while (inFlight >= PER_RESPONSE && !res.destroyed) await new Promise<void>((r) => (wake = r));
      const buf = take();
      const { bytesRead } = await handle.read(buf, 0, Math.min(CHUNK_BYTES, body.end - at), at);
      if (bytesRead === 0) {
        give(buf);
        throw new Error(`${body.path} ended at byte ${at}, before ${body.end}`);
      }
      at += bytesRead;
      inFlight++;
      res.write(buf.subarray(0, bytesRead), () => {
        give(buf);
        settled();
      });
    }
    if (!res.destroyed) res.end();
  } catch (err) {
    // Headers are gone already: the only way to tell the client is to cut the connection.
    console.error(`berth: response body failed: ${(err as Error).message}`);
    res.destroy();
  } finally {
    await handle?.close();
  }
}
