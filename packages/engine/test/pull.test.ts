import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type http from "node:http";
import { createGunzip } from "node:zlib";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { fixtures } from "@berth/fixtures";

import { Digest } from "../src/digest";
import { type FsBlobStore } from "../src/fs-blob-store";
import { type Endpoint, type EndpointResult } from "../src/pull/endpoints";
import { NoMatchingPlatformError } from "../src/pull/platform";
import { pullImage, type PullImageError, type PullImageOptions, type PullImageResult } from "../src/pull/pull-image";
import { type PullProgressEvent } from "../src/pull/progress";
import { storeFiles, tempStore } from "./helpers";
import { freePort, startProxy, startUpstream, type Proxy, type Upstream } from "./registry-helpers";

let up: Upstream;
const proxies: Proxy[] = [];

beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  up?.stop();
});

const origin = (): Endpoint => ({ url: `http://${up.host}` });
const image = (ref: string) => up.images.find((i) => i.ref === ref)!;
const isBlob = (req: http.IncomingMessage) => req.method === "GET" && /\/blobs\/sha256:/.test(req.url ?? "");

async function proxy(hooks: Parameters<typeof startProxy>[1] = {}): Promise<Proxy> {
  const p = await startProxy(up.host, hooks);
  proxies.push(p);
  return p;
}

/** Flips the first byte of every blob body (config and layers) on its way through. */
function corruptBlobs(): Parameters<typeof startProxy>[1] {
  return {
    respond(req, upstream, res) {
      if (!isBlob(req)) return false;
      res.writeHead(upstream.statusCode ?? 200, upstream.headers);
      let first = true;
      upstream.on("data", (chunk: Buffer) => {
        if (first) chunk[0] = chunk[0]! ^ 0xff;
        first = false;
        res.write(chunk);
      });
      upstream.on("end", () => res.end());
      return true;
    },
  };
}

async function pull(
  ref: string,
  blobs: FsBlobStore,
  extra: Partial<PullImageOptions> = {},
): Promise<PullImageResult & { events: PullProgressEvent[] }> {
  const events: PullProgressEvent[] = [];
  const result = await pullImage({
    ref: `${up.host}/${ref}`,
    blobs,
    endpoints: [origin()],
    onProgress: (e) => events.push(e),
    ...extra,
  });
  return { ...result, events };
}

/** Every file in the store is a complete blob whose bytes hash to its name; no ingest is left. */
async function expectStoreVerified(store: FsBlobStore): Promise<void> {
  for (const file of await storeFiles(store)) {
    expect(file.startsWith(store.blobDir), `${file} is not a blob`).toBe(true);
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    expect(hash.digest("hex"), file).toBe(file.slice(-64));
  }
}

/** diff_id and size of a stored gzip layer, computed independently of the code under test. */
async function uncompressedOf(store: FsBlobStore, digest: Digest): Promise<{ diffId: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  const z = createReadStream(store.pathOf(digest)).pipe(createGunzip());
  for await (const chunk of z) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { diffId: `sha256:${hash.digest("hex")}`, size };
}

const layerEvents = (events: PullProgressEvent[], status: string) =>
  events.filter((e) => e.id !== undefined && e.status === status).map((e) => e.id);

describe("pullImage from the CNCF registry", () => {
  it("pulls every fixture by tag, -oci tag and digest: records, events and verified blobs", async () => {
    for (const img of up.images.filter((i) => i.repo !== "fixtures/multi")) {
      const expected = fixtures().image(img.ref);
      const store = await tempStore();
      const byTag = await pull(img.ref, store);
      const [{ image: rec, repoTags }] = byTag.images as [PullImageResult["images"][number]];
      expect(rec.id.toString(), img.ref).toBe(expected.configDigest);
      expect(repoTags).toEqual([`${up.host}/${img.ref}`]);
      expect(byTag.manifestDigest.toString()).toBe(img.upstreamDigest);
      expect(byTag.indexDigest).toBeUndefined();
      expect(rec.manifestDigest?.toString()).toBe(img.upstreamDigest);
      expect(rec.manifestMediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
      expect(rec.layers.map((l) => [l.blob.toString(), l.blobSize, l.diffId.toString()])).toEqual(
        expected.layers.map((l) => [l.digest, l.size, l.diffID]),
      );
      for (const layer of rec.layers) {
        expect(await uncompressedOf(store, layer.blob)).toEqual({
          diffId: layer.diffId.toString(),
          size: layer.size,
        });
        expect(layer.mediaType).toBe("application/vnd.docker.image.rootfs.diff.tar.gzip");
      }
      expect(rec.size).toBe(rec.layers.reduce((s, l) => s + l.size, 0));
      expect(byTag.bytesFetched).toBe(rec.configSize + expected.layers.reduce((s, l) => s + l.size, 0));
      expect(byTag.createdBlobs.map(String).sort()).toEqual(
        [img.upstreamDigest, expected.configDigest, ...expected.layers.map((l) => l.digest)].sort(),
      );
      await expectStoreVerified(store);
      expect((await storeFiles(store)).length).toBe(byTag.createdBlobs.length);

      // docker's event stream, top to bottom.
      const tops = byTag.events.filter((e) => e.id === undefined).map((e) => e.status);
      expect(tops).toEqual([
        `Pulling from ${img.repo}`,
        `Digest: ${img.upstreamDigest}`,
        `Status: Downloaded newer image for ${up.host}/${img.ref}`,
      ]);
      const shorts = expected.layers.map((l) => l.digest.slice(7, 19));
      for (const status of ["Waiting", "Verifying Checksum", "Download complete", "Pull complete"])
        expect(layerEvents(byTag.events, status).sort(), status).toEqual([...shorts].sort());
      const downloading = byTag.events.filter((e) => e.status === "Downloading");
      for (const l of expected.layers)
        expect(downloading.filter((e) => e.id === l.digest.slice(7, 19)).at(-1)).toMatchObject({
          current: l.size,
          total: l.size,
        });

      // The OCI-typed tag: same image, its own manifest.
      const ociStore = await tempStore();
      const byOci = await pull(`${img.repo}:${img.tag}-oci`, ociStore);
      expect(byOci.images[0]!.image.id.toString()).toBe(expected.configDigest);
      expect(byOci.manifestDigest.toString()).toBe(img.upstreamOciDigest);
      expect(byOci.images[0]!.image.layers.map((l) => l.mediaType)).toEqual(
        expected.layers.map(() => "application/vnd.oci.image.layer.v1.tar+gzip"),
      );
      expect(byOci.images[0]!.image.layers.map((l) => l.size)).toEqual(rec.layers.map((l) => l.size));
      await expectStoreVerified(ociStore);

      // By digest into the first store: no tag, every layer already there.
      const byDigest = await pull(`${img.repo}@${img.upstreamDigest}`, store);
      expect(byDigest.images[0]!.repoTags).toEqual([]);
      expect(byDigest.images[0]!.image).toEqual({
        ...rec,
        loadedAt: byDigest.images[0]!.image.loadedAt,
      });
      expect(byDigest.createdBlobs).toEqual([]);
      expect(byDigest.events.at(-1)!.status).toBe(`Status: Downloaded newer image for ${up.host}/${img.repo}@${img.upstreamDigest}`);
    }
  });

  it("picks linux/amd64 and linux/arm64 from the manifest list and keeps index and manifest", async () => {
    const multi = image("fixtures/multi:1.0");
    for (const tag of ["1.0", "1.0-oci"]) {
      const indexDigest = tag === "1.0" ? multi.upstreamDigest : multi.upstreamOciDigest;
      for (const architecture of ["amd64", "arm64"]) {
        const expected = fixtures().image(`fixtures/multi:1.0-linux-${architecture}`);
        const store = await tempStore();
        const got = await pull(`fixtures/multi:${tag}`, store, {
          platform: { os: "linux", architecture },
        });
        const rec = got.images[0]!.image;
        expect(rec.id.toString(), `${tag} ${architecture}`).toBe(expected.configDigest);
        expect(rec.architecture).toBe(architecture);
        expect(rec.layers.map((l) => l.diffId.toString())).toEqual(expected.layers.map((l) => l.diffID));
        expect(got.indexDigest?.toString()).toBe(indexDigest);
        expect(rec.manifestDigest).toEqual(got.manifestDigest);
        if (tag === "1.0") {
          const child = multi.upstreamManifests!.find((m) => m.platform.architecture === architecture)!;
          expect(got.manifestDigest.toString()).toBe(child.digest);
        } else {
          const child = fixtures().images.find((i) => i.ref === "fixtures/multi:1.0")!.manifests!;
          expect(got.manifestDigest.toString()).toBe(child.find((m) => m.platform.architecture === architecture)!.digest);
        }
        expect(await store.has(got.indexDigest!)).toBe(true);
        expect(await store.has(got.manifestDigest)).toBe(true);
        expect(got.events.find((e) => e.status.startsWith("Digest:"))?.status).toBe(`Digest: ${indexDigest}`);
        await expectStoreVerified(store);
      }
    }
    // Default platform is linux/amd64; an unknown one names what there is.
    const store = await tempStore();
    const amd = await pull("fixtures/multi:1.0", store);
    expect(amd.images[0]!.image.architecture).toBe("amd64");
    const err = (await pull("fixtures/multi:1.0", store, {
      platform: { os: "linux", architecture: "s390x" },
    }).catch((e: unknown) => e)) as NoMatchingPlatformError;
    expect(err).toBeInstanceOf(NoMatchingPlatformError);
    expect(err.message).toMatch(/no matching manifest for linux\/s390x .*available: linux\/amd64, linux\/arm64/);
    // A single-platform image pulled for another explicit platform is refused, as docker does.
    await expect(
      pull("fixtures/base:1.0", await tempStore(), {
        platform: { os: "linux", architecture: "arm64" },
      }),
    ).rejects.toThrow(/is linux\/amd64, not the requested linux\/arm64/);
  });

  it("a second pull reports Already exists for every layer and fetches no blob bytes", async () => {
    const store = await tempStore();
    const first = await pull("fixtures/app:2.0", store);
    const p = await proxy();
    const second = await pull("fixtures/app:2.0", store, {
      endpoints: [{ url: `http://${p.host}` }],
    });
    const layers = fixtures().image("fixtures/app:2.0").layers;
    expect(layerEvents(second.events, "Already exists")).toEqual(layers.map((l) => l.digest.slice(7, 19)));
    expect(second.events.filter((e) => e.id !== undefined && e.status !== "Already exists")).toEqual([]);
    expect(second.bytesFetched).toBe(0);
    expect(second.createdBlobs).toEqual([]);
    expect(p.requests.filter((r) => r.url.includes("/blobs/"))).toEqual([]);
    expect(second.images[0]!.image).toEqual({
      ...first.images[0]!.image,
      loadedAt: second.images[0]!.image.loadedAt,
    });

    // A caller's `has` that knows the base layer from another store: it is downloaded here anyway.
    const other = await tempStore();
    const base = Digest.parse(layers[0]!.digest);
    const third = await pull("fixtures/app:2.0", other, {
      has: (d) => Promise.resolve(d.equals(base)),
    });
    expect(third.createdBlobs.map(String)).toContain(base.toString());
    await expectStoreVerified(other);
  });

  it("falls back from a mirror that is down to the origin, and reports the failure", async () => {
    const closed = await freePort();
    const mirror: Endpoint = { url: `http://127.0.0.1:${closed}`, retries: 1 };
    const results: { endpoint: Endpoint; result: EndpointResult }[] = [];
    const store = await tempStore();
    // A Docker Hub reference served by its mirror: the repository path is the same there.
    const upstreamAsMirror = origin();
    const got = await pull("", store, {
      ref: "fixtures/app:1.0",
      endpoints: [mirror, upstreamAsMirror],
      onEndpointResult: (endpoint, result) => results.push({ endpoint, result }),
    });
    expect(got.endpoint).toBe(upstreamAsMirror);
    expect(got.images[0]!.repoTags).toEqual(["docker.io/fixtures/app:1.0"]);
    expect(got.images[0]!.image.id.toString()).toBe(image("fixtures/app:1.0").configDigest);
    expect(got.events.at(-1)!.status).toBe("Status: Downloaded newer image for fixtures/app:1.0");
    expect(results[0]!.endpoint).toBe(mirror);
    expect(results[0]!.result).toMatchObject({ ok: false, kind: "manifest", bytes: 0 });
    expect(results[0]!.result.error?.message).toMatch(/cannot reach registry/);
    expect(results.slice(1).every((r) => r.endpoint === upstreamAsMirror && r.result.ok)).toBe(true);
    expect(results.filter((r) => r.result.kind === "blob")).toHaveLength(3);
  });

  it("takes a blob the mirror corrupts from the next endpoint; fails clearly when none serves it", async () => {
    const bad = await proxy(corruptBlobs());
    const mirror: Endpoint = { url: `http://${bad.host}` };
    const results: EndpointResult[] = [];
    const store = await tempStore();
    const got = await pull("fixtures/app:1.0", store, {
      endpoints: [mirror, origin()],
      onEndpointResult: (_e, r) => results.push(r),
    });
    expect(got.endpoint).toBe(mirror); // it served the manifest
    expect(got.images[0]!.image.id.toString()).toBe(image("fixtures/app:1.0").configDigest);
    const blobFailures = results.filter((r) => r.kind === "blob" && !r.ok);
    expect(blobFailures).toHaveLength(3); // config and both layers
    for (const f of blobFailures) expect(f.error?.message).toMatch(/digest mismatch|not valid gzip/);
    await expectStoreVerified(store);
    expect((await storeFiles(store)).length).toBe(4);

    const alone = await tempStore();
    const err = (await pull("fixtures/app:1.0", alone, { endpoints: [mirror] }).catch((e: unknown) => e)) as PullImageError;
    expect(err.message).toMatch(/digest mismatch/);
    expect((err as PullImageError & { code: string }).code).toBe("DIGEST_MISMATCH");
    expect(err.createdBlobs.map(String)).toEqual([image("fixtures/app:1.0").upstreamDigest]);
    await expectStoreVerified(alone);

    const both = (await pull("fixtures/app:1.0", alone, {
      endpoints: [mirror, { url: `http://${bad.host}` }],
    }).catch((e: unknown) => e)) as Error;
    expect(both.message).toMatch(/^blob fixtures\/app@sha256:[a-f0-9]{64}: no endpoint could serve it \(/);
  });

  it("names an unknown tag, and schema1, clearly", async () => {
    const store = await tempStore();
    await expect(pull("fixtures/app:nope", store)).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "manifest unknown: fixtures/app:nope",
    });
    const p = await proxy();
    await expect(pull("fixtures/app:nope", store, { endpoints: [{ url: `http://${p.host}` }, origin()] })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/manifest unknown/) as unknown,
    });
    const schema1 = await proxy({
      respond(req, upstream, res) {
        if (!req.url?.includes("/manifests/")) return false;
        res.writeHead(200, {
          ...upstream.headers,
          "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws",
        });
        upstream.pipe(res);
        return true;
      },
    });
    await expect(pull("fixtures/app:1.0", store, { endpoints: [{ url: `http://${schema1.host}` }] })).rejects.toThrow(
      /schema1 manifests are not supported/,
    );
    expect(await storeFiles(store)).toEqual([]);
  });

  it("aborting mid-pull stops every download, lists createdBlobs and leaves no ingest file", async () => {
    const big = image("fixtures/big:1.0");
    const bigLayer = big.layers!.at(-1)!;
    // The big layer stalls after its first MiB, so the abort always lands mid-download.
    const stall = await proxy({
      respond(req, upstream, res) {
        if (!req.url?.endsWith(`/blobs/${bigLayer.digest}`)) return false;
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
    const controller = new AbortController();
    let aborted = 0;
    const err = (await pullImage({
      ref: `${up.host}/fixtures/big:1.0`,
      blobs: store,
      endpoints: [{ url: `http://${stall.host}` }],
      signal: controller.signal,
      onProgress: (e) => {
        if (e.id === bigLayer.digest.slice(7, 19) && e.status === "Downloading" && !aborted++) controller.abort(new Error("stop"));
      },
    }).catch((e: unknown) => e)) as PullImageError;
    expect(err.message).toBe("stop");
    const created = err.createdBlobs.map(String);
    expect(created).toEqual(expect.arrayContaining([big.upstreamDigest, big.configDigest]));
    expect(created).not.toContain(bigLayer.digest);
    expect((await storeFiles(store)).map((f) => `sha256:${f.slice(-64)}`).sort()).toEqual([...created].sort());
    await expectStoreVerified(store);
  });
});
