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

const MiB = 1024 * 1024;
const CHUNK_BYTES = MiB;
/** Buffers in flight per response: one being read, the others queued on the socket. */
const PER_RESPONSE = 3;
/**
 * The first bytes of every body go in small writes, one at a time. A client's kernel widens its
 * TCP receive window only while data arrives with room to spare in its buffer: megabyte writes
 * from the first byte fill a new connection's 128 KiB buffer at once and keep it at that size for
 * the whole transfer. Measured with skopeo pulling 1 GiB on loopback: its buffer stayed at 128 KiB
 * (32 KiB a wakeup) where distribution, which writes 32 KiB at a time, left it at 1.7 MiB. With
 * the first 16 MiB sent this way it grew to 1.3 MiB (after 4 MiB, to 0.4 MiB), and skopeo's pull
 * went from about 5% slower than from distribution to even with it. After that, large writes keep
 * up with fast clients for less CPU.
 */
const GENTLE_BYTES = 16 * MiB;
const GENTLE_WRITE = 32 * 1024;
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
  // A client gone mid-body: its pending writes may never call back.
  res.once("close", () => wake?.());
  const room = async (depth: number) => {
    while (inFlight >= depth && !res.destroyed) await new Promise<void>((r) => (wake = r));
  };
  const send = (chunk: Buffer, done?: () => void) => {
    inFlight++;
    res.write(chunk, () => {
      done?.();
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    });
  };
  try {
    handle = await open(body.path, "r");
    for (let at = body.start; at < body.end && !res.destroyed;) {
      await room(PER_RESPONSE);
      const buf = take();
      const { bytesRead } = await handle.read(buf, 0, Math.min(CHUNK_BYTES, body.end - at), at);
      if (bytesRead === 0) {
        give(buf);
        throw new Error(`${body.path} ended at byte ${at}, before ${body.end}`);
      }
      const gentle = at - body.start < GENTLE_BYTES;
      at += bytesRead;
      if (!gentle) {
        send(buf.subarray(0, bytesRead), () => give(buf));
        continue;
      }
      for (let from = 0; from < bytesRead; from += GENTLE_WRITE) {
        await room(1);
        if (res.destroyed) break;
        const to = Math.min(from + GENTLE_WRITE, bytesRead);
        send(buf.subarray(from, to), to === bytesRead ? () => give(buf) : undefined);
      }
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
