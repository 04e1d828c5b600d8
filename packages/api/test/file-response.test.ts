import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendFile, type FileBody } from "../src/http/file-response";

const MiB = 1024 * 1024;

describe("sendFile", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "berth-file-response-"));
  const file = path.join(dir, "blob");
  // Not a whole number of reads or of socket writes, so every boundary is crossed mid-way.
  const bytes = randomBytes(3 * MiB + 12_345);
  let body: FileBody;
  /** The body being sent to the latest request. */
  let sending: Promise<void> = Promise.resolve();
  /** The sizes of the latest response's body writes, in order. */
  let writes: number[] = [];
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    writeFileSync(file, bytes);
    server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-length": String(body.end - body.start) });
      writes = [];
      const write = res.write.bind(res) as (chunk: Buffer, cb: () => void) => boolean;
      res.write = ((chunk: Buffer, cb: () => void) => {
        writes.push(chunk.length);
        return write(chunk, cb);
      }) as typeof res.write;
      sending = sendFile(res, body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends exactly the requested bytes of a file, whole or a range across read and write boundaries", async () => {
    for (const [start, end] of [
      [0, bytes.length],
      [MiB - 7, 2 * MiB + 300_001],
      [bytes.length - 1, bytes.length],
    ] as const) {
      body = { path: file, start, end };
      const res = await fetch(base);
      const got = Buffer.from(await res.arrayBuffer());
      expect(got.length).toBe(end - start);
      expect(got.equals(bytes.subarray(start, end))).toBe(true);
      await sending;
    }
  });

  it("sends the first 16 MiB of a body in small writes, so the client's receive window can grow, then large ones", async () => {
    const long = path.join(dir, "long");
    const longBytes = randomBytes(20 * MiB + 777);
    writeFileSync(long, longBytes);
    for (const [start, end] of [
      [0, longBytes.length],
      [3 * MiB + 1, longBytes.length - 5],
      [16 * MiB - 3, 16 * MiB + 4],
    ] as const) {
      body = { path: long, start, end };
      const got = Buffer.from(await (await fetch(base)).arrayBuffer());
      await sending;
      expect(got.equals(longBytes.subarray(start, end))).toBe(true);
      let sent = 0;
      for (const size of writes) {
        if (sent < 16 * MiB) expect(size).toBeLessThanOrEqual(32 * 1024);
        sent += size;
      }
      expect(sent).toBe(end - start);
      if (end - start > 17 * MiB) expect(Math.max(...writes)).toBe(MiB);
    }
  });

  it("cuts the connection when the file is shorter than the range, rather than end a short body as complete", async () => {
    body = { path: file, start: 0, end: bytes.length + MiB };
    const res = await fetch(base);
    await expect(res.arrayBuffer()).rejects.toThrow();
    // The server is still serving.
    body = { path: file, start: 10, end: 20 };
    expect(Buffer.from(await (await fetch(base)).arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
  });

  it("settles when the client goes away mid-body, and the server goes on serving", async () => {
    // Far more than the sockets on both sides buffer, so writes are waiting when the client goes.
    const big = path.join(dir, "big");
    writeFileSync(big, "");
    truncateSync(big, 256 * MiB);
    body = { path: big, start: 0, end: 256 * MiB };
    const controller = new AbortController();
    const res = await fetch(base, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    // Left waiting on the gone client, it would never settle and would hold the file open.
    await sending;
    body = { path: file, start: 0, end: 5 };
    expect(Buffer.from(await (await fetch(base)).arrayBuffer()).equals(bytes.subarray(0, 5))).toBe(true);
  });
});
