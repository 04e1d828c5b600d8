import type http from "node:http";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { pullImage, type PullImageError } from "../src/pull/pull-image";
import { type PullProgressEvent } from "../src/pull/progress";
import { tempStore } from "./helpers";
import { startProxy, startUpstream, type Proxy, type Upstream } from "./registry-helpers";

let up: Upstream;
const proxies: Proxy[] = [];

beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  up?.stop();
});

const isBlobGet = (r: { method: string; url: string }) => r.method === "GET" && /\/blobs\/sha256:/.test(r.url);
const blobOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);

async function proxy(hooks: Parameters<typeof startProxy>[1] = {}): Promise<Proxy> {
  const p = await startProxy(up.host, hooks);
  proxies.push(p);
  return p;
}

describe("concurrent pulls into one store", () => {
  it("fetch each blob from upstream once, and every pull gets the image", async () => {
    const big = up.images.find((i) => i.ref === "fixtures/big:1.0")!;
    const counting = await proxy();
    const store = await tempStore();
    const events: PullProgressEvent[][] = [];
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => {
        events[i] = [];
        return pullImage({
          ref: `${up.host}/fixtures/big:1.0`,
          blobs: store,
          endpoints: [{ url: `http://${counting.host}` }],
          onProgress: (e) => events[i]!.push(e),
        });
      }),
    );

    const ids = new Set(results.map((r) => r.images[0]!.image.id.toString()));
    expect(ids).toEqual(new Set([big.configDigest]));
    const blobGets = counting.requests.filter(isBlobGet).map((r) => blobOf(r.url));
    const expected = [big.configDigest!, ...big.layers!.map((l) => l.digest)];
    expect(blobGets.sort()).toEqual([...new Set(expected)].sort());
    // Upstream bytes once in all: the pulls that joined another's download count none.
    const layerBytes = big.layers!.reduce((n, l) => n + l.size, 0);
    const fetched = results.reduce((n, r) => n + r.bytesFetched, 0);
    expect(fetched).toBeGreaterThanOrEqual(layerBytes);
    expect(fetched).toBeLessThan(layerBytes + 64 * 1024);
    // Every pull shows every layer complete, whoever downloaded it.
    for (const list of events) {
      for (const layer of big.layers!) {
        const id = layer.digest.slice(7, 19);
        expect(list.filter((e) => e.id === id).map((e) => e.status)).toContain("Pull complete");
      }
    }
  });

  it("a pull waiting on another's download finishes it itself when that one is cancelled", async () => {
    const big = up.images.find((i) => i.ref === "fixtures/big:1.0")!;
    const bigLayer = big.layers!.at(-1)!;
    let stalled = 0;
    // The first download of the big layer stalls after a MiB; later ones pass.
    const stall = await proxy({
      respond(req: http.IncomingMessage, upstream: http.IncomingMessage, res: http.ServerResponse) {
        if (!req.url?.endsWith(`/blobs/${bigLayer.digest}`) || stalled++ > 0) return false;
        res.writeHead(upstream.statusCode ?? 200, upstream.headers);
        let sent = 0;
        upstream.on("data", (chunk: Buffer) => {
          if (sent < 1024 * 1024) res.write(chunk);
          else upstream.pause();
          sent += chunk.length;
        });
        res.on("close", () => upstream.destroy());
        return true;
      },
    });
    const store = await tempStore();
    const first = new AbortController();
    const id = bigLayer.digest.slice(7, 19);
    let startSecond!: () => void;
    const secondMayStart = new Promise<void>((resolve) => (startSecond = resolve));

    const a = pullImage({
      ref: `${up.host}/fixtures/big:1.0`,
      blobs: store,
      endpoints: [{ url: `http://${stall.host}` }],
      signal: first.signal,
      onProgress: (e) => {
        if (e.id === id && e.status === "Downloading") startSecond();
      },
    }).catch((e: unknown) => e as PullImageError);
    await secondMayStart;
    let joined = false;
    const b = pullImage({
      ref: `${up.host}/fixtures/big:1.0`,
      blobs: store,
      endpoints: [{ url: `http://${stall.host}` }],
      onProgress: (e) => {
        // Seeing the first pull's bytes means this one waits on its download: cancel that one now.
        if (e.id === id && e.status === "Downloading" && !joined) {
          joined = true;
          first.abort(new Error("cancelled by its owner"));
        }
      },
    });
    const [errA, resultB] = await Promise.all([a, b]);
    expect((errA as Error).message).toBe("cancelled by its owner");
    expect(resultB.images[0]!.image.id.toString()).toBe(big.configDigest);
    expect(await store.has(resultB.images[0]!.image.layers.at(-1)!.blob)).toBe(true);
    expect(stall.requests.filter((r) => isBlobGet(r) && r.url.endsWith(bigLayer.digest))).toHaveLength(2);
  });
});
