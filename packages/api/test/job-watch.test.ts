import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, startUpstream, type Proxy, type Upstream } from "../../engine/test/registry-helpers";
import { jobWatcherCount } from "../src/services/job-events";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, watchJob, type WatchOptions } from "./client";

let upstream: Upstream;
let server: TestServer;
let token: string;
let api: ReturnType<typeof apiClient>;
let slow: Proxy;

beforeAll(async () => {
  [upstream, server] = await Promise.all([startUpstream(), bootTestServer()]);
  token = await server.token();
  api = apiClient(server.url, token);
  // Blob bodies slow down (a 10 ms pause per 256 KiB), so a pull lasts long enough to be watched.
  slow = await startProxy(upstream.host, {
    respond(req, up, res) {
      if (!/\/blobs\/sha256:/.test(req.url ?? "") || req.method !== "GET") return false;
      res.writeHead(up.statusCode ?? 200, up.headers);
      let sincePause = 0;
      up.on("data", (chunk: Buffer) => {
        sincePause += chunk.length;
        if (sincePause < 256 * 1024) return void res.write(chunk);
        sincePause = 0;
        up.pause();
        res.write(chunk, () => setTimeout(() => up.resume(), 10));
      });
      up.on("end", () => res.end());
      res.on("close", () => up.destroy());
      return true;
    },
  });
});
afterAll(async () => {
  await slow?.close();
  await server?.close();
  upstream?.stop();
});

/** Opens `jobs.watch` as the browser's EventSource does and returns the stream's data events. */
const watch = (id: string, opts: WatchOptions = {}) => watchJob(server.url, token, id, opts);

describe("jobs.watch", () => {
  it("streams a pull's progress as it happens and ends with the finished job", async () => {
    const { id } = await api.jobs.pull.mutate({ ref: `${slow.host}/fixtures/big:1.0` });
    const seen = await watch(id);
    const last = seen.at(-1)!;
    expect(last.state).toBe("succeeded");
    expect(last.progress.lines.at(-1)).toBe(`Status: Downloaded newer image for ${slow.host}/fixtures/big:1.0`);
    // Live: several updates, some of them mid-download with growing byte counts.
    expect(seen.length).toBeGreaterThan(3);
    const downloading = seen.flatMap((j) => j.progress.layers.filter((l) => l.status === "Downloading").map((l) => l.current ?? 0));
    expect(downloading.length).toBeGreaterThan(1);
    expect(new Set(downloading).size).toBeGreaterThan(1);
  });

  it("sends a finished job once and ends", async () => {
    const { id } = await api.jobs.pull.mutate({ ref: `${upstream.host}/fixtures/base:1.0` });
    await watch(id, { until: (j) => j.state === "succeeded" });
    const seen = await watch(id);
    expect(seen.map((j) => j.state)).toEqual(["succeeded"]);
  });

  it("stops watching when the browser goes away", async () => {
    const { id } = await api.jobs.pull.mutate({ ref: `${slow.host}/fixtures/big:1.0` });
    const controller = new AbortController();
    await watch(id, { until: (j) => j.state === "running" }).catch(() => undefined);
    const watching = watch(id, { signal: controller.signal }).catch(() => "closed");
    for (let i = 0; i < 50 && jobWatcherCount() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(jobWatcherCount()).toBeGreaterThan(0);
    controller.abort();
    await watching;
    for (let i = 0; i < 100 && jobWatcherCount() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(jobWatcherCount()).toBe(0);
    await api.jobs.cancel.mutate({ id });
  });

  it("refuses a watcher who is not signed in", async () => {
    const { id } = await api.jobs.pull.mutate({ ref: `${upstream.host}/fixtures/base:1.0` });
    const input = encodeURIComponent(JSON.stringify({ id }));
    const res = await fetch(`${server.url}/api/trpc/jobs.watch?input=${input}`, { headers: { accept: "text/event-stream" } });
    const body = await res.text();
    expect(body).toMatch(/UNAUTHORIZED|sign in/);
    expect(body).not.toMatch(/fixtures\/base/);
  });
});
