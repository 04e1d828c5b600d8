import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { fixtures } from "@berth/fixtures";

import { readArchive } from "../src/archive/read-archive";
import { EngineError } from "../src/errors";
import { type FsBlobStore } from "../src/fs-blob-store";
import { MemoryMetadataStore } from "../src/memory-metadata-store";
import type { ImageRecord } from "../src/metadata";
import { type Endpoint } from "../src/pull/endpoints";
import { pullImage } from "../src/pull/pull-image";
import { pushImage, type PushImageOptions, type PushImageResult } from "../src/push/push-image";
import { resolvePushTargets } from "../src/push/push-targets";
import { type PushProgressEvent } from "../src/push/progress";
import { normalizedName, parseReference } from "../src/reference";
import { RegistryClient } from "../src/registry/client";
import { tempDir, tempStore } from "./helpers";
import {
  htpasswdLine,
  startProxy,
  startRegistry,
  startTokenServer,
  startUpstream,
  type ExtraRegistry,
  type Proxy,
  type Upstream,
} from "./registry-helpers";

const fx = fixtures();
let up: Upstream;
/** An empty CNCF registry that every test pushes to (each in its own repositories). */
let target: ExtraRegistry;
let targetStorage: string;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  up = await startUpstream();
  targetStorage = mkdtempSync(join(tmpdir(), "berth-push-target-"));
  target = await startRegistry(targetStorage, "");
});
afterAll(async () => {
  for (const stop of stops.splice(0)) await stop();
  await target?.stop();
  rmSync(targetStorage, { recursive: true, force: true });
  up?.stop();
});

interface Local {
  blobs: FsBlobStore;
  meta: MemoryMetadataStore;
}

async function local(): Promise<Local> {
  return { blobs: await tempStore(), meta: new MemoryMetadataStore() };
}

async function tag(env: Local, image: ImageRecord, ...refs: string[]): Promise<void> {
  await env.meta.putImage(image);
  for (const r of refs) {
    const ref = parseReference(r);
    await env.meta.setTag(normalizedName(ref), ref.tag ?? "latest", image.id);
  }
}

/** Loads a `docker save` fixture archive (uncompressed layers) and tags its image as `refs`. */
async function loadArchive(env: Local, fixtureRef: string, ...refs: string[]): Promise<ImageRecord> {
  const archive = fx.images.find((i) => i.ref === fixtureRef)!.archive!;
  const { images } = await readArchive(createReadStream(join(fx.out, archive)), { blobs: env.blobs });
  const image = images[0]!.image;
  await tag(env, image, ...refs);
  return image;
}

/** Pulls a fixture from the upstream registry (gzip layers, manifest kept) and tags it as `refs` too. */
async function pullFixture(env: Local, fixtureRef: string, ...refs: string[]): Promise<ImageRecord> {
  const pulled = await pullImage({ ref: `${up.host}/${fixtureRef}`, blobs: env.blobs, endpoints: [{ url: `http://${up.host}` }] });
  const image = pulled.images[0]!.image;
  await tag(env, image, `${up.host}/${fixtureRef}`, ...refs);
  return image;
}

async function push(
  env: Local,
  ref: string,
  extra: Partial<PushImageOptions> & { allTags?: boolean; host?: string } = {},
): Promise<PushImageResult & { events: PushProgressEvent[] }> {
  const targets = await resolvePushTargets({ meta: env.meta, ref, allTags: extra.allTags });
  const events: PushProgressEvent[] = [];
  const endpoint: Endpoint = { url: `http://${extra.host ?? targets.ref.domain}` };
  const result = await pushImage({
    blobs: env.blobs,
    repository: targets.repository,
    tags: targets.tags,
    mountFrom: targets.mountFrom,
    endpoint,
    onProgress: (e) => events.push(e),
    ...extra,
  });
  return { ...result, events };
}

const POLICY = join(fx.out, ".cache/policy.json");

function skopeoInspect(ref: string, ...flags: string[]): Record<string, unknown> {
  const out = execFileSync("skopeo", ["--policy", POLICY, "inspect", "--tls-verify=false", ...flags, `docker://${ref}`], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(out) as Record<string, unknown>;
}

interface RawManifest {
  mediaType: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
}

const layerStatuses = (events: PushProgressEvent[], status: string) =>
  events.filter((e) => e.id !== undefined && e.status === status).map((e) => e.id);
const lines = (events: PushProgressEvent[]) => events.filter((e) => e.id === undefined).map((e) => e.status);

describe("pushImage to an empty CNCF registry", () => {
  it("pushes an image loaded from a docker save archive: skopeo sees its config, layers and diff_ids", async () => {
    const env = await local();
    const expected = fx.image("fixtures/app:1.0");
    const ref = `${target.host}/loaded/app:1.0`;
    await loadArchive(env, "fixtures/app:1.0", ref);
    const pushed = await push(env, ref);

    const raw = skopeoInspect(ref, "--raw") as unknown as RawManifest;
    expect(raw.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(raw.config).toMatchObject({ mediaType: "application/vnd.docker.container.image.v1+json", digest: expected.configDigest });
    // Layers go as stored: the archive's uncompressed tars, typed as such (never recompressed).
    expect(raw.layers.map((l) => [l.mediaType, l.digest])).toEqual(
      expected.layers.map((l) => ["application/vnd.docker.image.rootfs.diff.tar", l.diffID]),
    );
    const config = skopeoInspect(ref, "--config") as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(expected.layers.map((l) => l.diffID));
    const inspect = skopeoInspect(ref) as { Digest: string; Layers: string[] };
    expect(inspect.Digest).toBe(pushed.tags[0]!.digest.toString());
    expect(pushed.tags[0]!.original).toBe(false);

    // docker's output: the repository line, per layer Preparing → Waiting → Pushing → Pushed, the digest line last.
    const ids = expected.layers.map((l) => l.diffID.slice(7, 19)).reverse();
    expect(lines(pushed.events)).toEqual([
      `The push refers to repository [${target.host}/loaded/app]`,
      `1.0: digest: ${pushed.tags[0]!.digest.toString()} size: ${pushed.tags[0]!.size}`,
    ]);
    expect(layerStatuses(pushed.events, "Preparing")).toEqual(ids);
    expect(layerStatuses(pushed.events, "Waiting")).toEqual(ids);
    expect(new Set(layerStatuses(pushed.events, "Pushed"))).toEqual(new Set(ids));
    const pushing = pushed.events.filter((e) => e.status === "Pushing");
    expect(pushing.length).toBeGreaterThanOrEqual(ids.length);
    expect(pushed.layersPushed).toBe(2);
    const layerBytes = expected.layers.reduce((s, l) => s + (l.diffID === l.digest ? l.size : 0), 0);
    expect(pushed.bytesUploaded).toBeGreaterThan(layerBytes);
  });

  it("pushes a pulled image byte for byte: the manifest digest stays the upstream one", async () => {
    const env = await local();
    const fixture = up.images.find((i) => i.ref === "fixtures/app:2.0")!;
    const ref = `${target.host}/pulled/app:2.0`;
    await pullFixture(env, "fixtures/app:2.0", ref);
    const pushed = await push(env, ref);
    expect(pushed.tags[0]).toMatchObject({ original: true, mediaType: "application/vnd.docker.distribution.manifest.v2+json" });
    expect(pushed.tags[0]!.digest.toString()).toBe(fixture.upstreamDigest);

    const inspect = skopeoInspect(ref) as { Digest: string; Layers: string[] };
    const upstream = skopeoInspect(`${up.host}/fixtures/app:2.0`) as { Digest: string; Layers: string[] };
    expect(inspect.Digest).toBe(fixture.upstreamDigest);
    expect(inspect.Layers).toEqual(upstream.Layers);
    const raw = skopeoInspect(ref, "--raw") as unknown as RawManifest;
    expect(raw.layers.every((l) => l.mediaType === "application/vnd.docker.image.rootfs.diff.tar.gzip")).toBe(true);
  });

  it("a second push finds every layer there: Layer already exists, no byte uploaded", async () => {
    const env = await local();
    const ref = `${target.host}/again/base:1.0`;
    await loadArchive(env, "fixtures/base:1.0", ref);
    const first = await push(env, ref);
    const second = await push(env, ref);
    expect(second.tags[0]!.digest.toString()).toBe(first.tags[0]!.digest.toString());
    expect(second.bytesUploaded).toBe(0);
    expect(second.layersSkipped).toBe(1);
    expect(second.layersPushed).toBe(0);
    expect(layerStatuses(second.events, "Layer already exists")).toHaveLength(1);
    expect(second.events.some((e) => e.status === "Pushing")).toBe(false);
  });

  it("-a pushes every tag of the repository; a layer shared by two tags is uploaded once", async () => {
    const env = await local();
    const repo = `${target.host}/all/app`;
    await loadArchive(env, "fixtures/app:1.0", `${repo}:1.0`);
    await loadArchive(env, "fixtures/app:2.0", `${repo}:2.0`);
    const pushed = await push(env, repo, { allTags: true });
    expect(pushed.tags.map((t) => t.tag)).toEqual(["1.0", "2.0"]);
    expect(pushed.layersPushed).toBe(3); // base, A1, A2
    const base = fx.image("fixtures/base:1.0").layers[0]!.diffID.slice(7, 19);
    expect(layerStatuses(pushed.events, "Pushed").filter((id) => id === base)).toHaveLength(1);
    expect(layerStatuses(pushed.events, "Layer already exists")).toContain(base);
    expect(lines(pushed.events).filter((l) => /^\d\.0: digest: sha256:[a-f0-9]{64} size: \d+$/.test(l))).toHaveLength(2);
    const tags = execFileSync("skopeo", ["--policy", POLICY, "list-tags", "--tls-verify=false", `docker://${repo}`], { encoding: "utf8" });
    expect((JSON.parse(tags) as { Tags: string[] }).Tags.sort()).toEqual(["1.0", "2.0"]);
  });

  it("a push to another repository of the same registry mounts the layers instead of uploading them", async () => {
    const env = await local();
    const first = `${target.host}/mount/one:1.0`;
    const image = await loadArchive(env, "fixtures/app:1.0", first);
    await push(env, first);
    const second = `${target.host}/mount/two:1.0`;
    await tag(env, image, second);
    // Through a proxy that counts the requests (and hands out relative Locations, as some registries do).
    const proxy = await relativeLocationProxy(target.host);
    const pushed = await push(env, second, { host: proxy.host });
    expect(pushed.layersMounted).toBe(2);
    expect(layerStatuses(pushed.events, "Mounted from mount/one")).toHaveLength(2);
    const mounts = proxy.requests.filter((r) => r.method === "POST" && r.url.includes("mount=") && r.url.includes("from=mount%2Fone"));
    expect(mounts).toHaveLength(2);
    // Only the config is uploaded (configs are not mounted), no layer byte.
    const uploads = proxy.requests.filter((r) => r.method === "PUT" && r.url.includes("/blobs/uploads/"));
    expect(uploads).toHaveLength(1);
    expect(pushed.bytesUploaded).toBe(image.configSize);
    expect((skopeoInspect(second) as { Digest: string }).Digest).toBe(pushed.tags[0]!.digest.toString());
  });

  it("falls back to an upload when the mount source lacks the blob (the registry answers 202)", async () => {
    const env = await local();
    const ref = `${target.host}/nomount/base:1.0`;
    await loadArchive(env, "fixtures/base:1.0", ref);
    const pushed = await push(env, ref, { mountFrom: ["never/pushed"] });
    expect(pushed.layersMounted).toBe(0);
    expect(pushed.layersPushed).toBe(1);
    expect(layerStatuses(pushed.events, "Pushed")).toHaveLength(1);
    expect((skopeoInspect(ref) as { Digest: string }).Digest).toBe(pushed.tags[0]!.digest.toString());
  });

  it("pushes through the Bearer token flow, asking for pull,push on the repository", async () => {
    const env = await local();
    const tokens = await startTokenServer("pusher", "t0ken-Pa55");
    stops.push(() => tokens.close());
    const storage = await tempDir();
    const reg = await startRegistry(storage, tokens.authYaml);
    stops.push(() => reg.stop());
    const ref = `${reg.host}/bearer/base:1.0`;
    await loadArchive(env, "fixtures/base:1.0", ref);
    const pushed = await push(env, ref, {
      endpoint: { url: `http://${reg.host}`, credentials: { username: "pusher", password: "t0ken-Pa55" } },
    });
    expect(pushed.layersPushed).toBe(1);
    expect(tokens.requests.map((r) => r.scope)).toContain("repository:bearer/base:pull,push");
    const c = new RegistryClient({ host: reg.host, insecure: true, credentials: { username: "pusher", password: "t0ken-Pa55" } });
    try {
      expect((await c.headManifest("bearer/base", "1.0")).digest.toString()).toBe(pushed.tags[0]!.digest.toString());
    } finally {
      c.close();
    }
  });

  it("uploads in chunks (PATCH with Content-Range, then PUT) with a small chunkSize", async () => {
    const env = await local();
    const ref = `${target.host}/chunked/base:1.0`;
    const image = await loadArchive(env, "fixtures/base:1.0", ref);
    const proxy = await relativeLocationProxy(target.host);
    const chunkSize = 256 * 1024;
    const pushed = await push(env, ref, { host: proxy.host, chunkSize });
    const patches = proxy.requests.filter((r) => r.method === "PATCH");
    const expectedPatches = Math.ceil(image.layers[0]!.blobSize / chunkSize) + Math.ceil(image.configSize / chunkSize);
    expect(patches).toHaveLength(expectedPatches);
    expect(patches[0]!.headers["content-range"]).toBe(`0-${chunkSize - 1}`);
    expect(pushed.bytesUploaded).toBe(image.layers[0]!.blobSize + image.configSize);
    const config = skopeoInspect(ref, "--config") as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual([image.layers[0]!.diffId.toString()]);
    expect((skopeoInspect(ref) as { Digest: string }).Digest).toBe(pushed.tags[0]!.digest.toString());
  });

  it("pushes to a Basic-auth registry with the stored credentials, and fails clearly without them", async () => {
    const env = await local();
    const dir = await tempDir();
    const htpasswd = join(dir, "htpasswd");
    await writeFile(htpasswd, htpasswdLine("pusher", "s3cret-Pa55"));
    const storage = join(dir, "storage");
    const reg = await startRegistry(storage, ["  htpasswd:", "    realm: berth-test", `    path: ${htpasswd}`].join("\n"));
    stops.push(() => reg.stop());
    const ref = `${reg.host}/auth/base:1.0`;
    await loadArchive(env, "fixtures/base:1.0", ref);

    const denied = await push(env, ref).catch((err: unknown) => err as EngineError);
    expect(denied).toBeInstanceOf(EngineError);
    expect((denied as EngineError).code).toBe("UPSTREAM_UNAUTHORIZED");
    expect((denied as EngineError).message).toMatch(/unauthorized: authentication required .* \(no credentials given\)/);

    const wrong = await push(env, ref, {
      endpoint: { url: `http://${reg.host}`, credentials: { username: "pusher", password: "nope" } },
    }).catch((err: unknown) => err as EngineError);
    expect((wrong as EngineError).message).toMatch(/credentials rejected/);
    expect((wrong as EngineError).message).not.toContain("nope");

    const pushed = await push(env, ref, {
      endpoint: { url: `http://${reg.host}`, credentials: { username: "pusher", password: "s3cret-Pa55" } },
    });
    const c = new RegistryClient({ host: reg.host, insecure: true, credentials: { username: "pusher", password: "s3cret-Pa55" } });
    try {
      expect((await c.headManifest("auth/base", "1.0")).digest.toString()).toBe(pushed.tags[0]!.digest.toString());
    } finally {
      c.close();
    }
  });

  it("stops cleanly when cancelled mid-push: no manifest, and a later push completes", async () => {
    const env = await local();
    const ref = `${target.host}/cancel/big:1.0`;
    await loadArchive(env, "fixtures/big:1.0", ref);
    const controller = new AbortController();
    const started = performance.now();
    const err = await push(env, ref, {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.id !== undefined && e.status === "Pushing" && (e.current ?? 0) > 0) controller.abort(new Error("push cancelled by the test"));
      },
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("push cancelled by the test");
    expect(performance.now() - started).toBeLessThan(10_000);
    const c = new RegistryClient({ host: target.host, insecure: true });
    try {
      await expect(c.headManifest("cancel/big", "1.0")).rejects.toThrow(/manifest unknown/);
    } finally {
      c.close();
    }
    const pushed = await push(env, ref);
    expect((skopeoInspect(ref) as { Digest: string }).Digest).toBe(pushed.tags[0]!.digest.toString());
  });
});

describe("resolvePushTargets", () => {
  it("names a missing image as docker does, and refuses digests and -a with a tag", async () => {
    const env = await local();
    await expect(resolvePushTargets({ meta: env.meta, ref: `${target.host}/nope/app:1.0` })).rejects.toThrow(
      `An image does not exist locally with the tag: ${target.host}/nope/app`,
    );
    await expect(resolvePushTargets({ meta: env.meta, ref: "nope" })).rejects.toThrow("An image does not exist locally with the tag: nope");
    await expect(resolvePushTargets({ meta: env.meta, ref: `x@sha256:${"a".repeat(64)}` })).rejects.toThrow(
      /cannot push a digest reference/,
    );
    await expect(resolvePushTargets({ meta: env.meta, ref: "x:1", allTags: true })).rejects.toThrow("tag can't be used with --all-tags/-a");
    await expect(resolvePushTargets({ meta: env.meta, ref: "Bad Name" })).rejects.toThrow(/invalid reference format/);
  });

  it("offers the image's other repositories on the same registry as mount sources", async () => {
    const env = await local();
    const image = await loadArchive(env, "fixtures/base:1.0", "127.0.0.1:5999/a/one:1", "127.0.0.1:5999/a/two:1", "other.io/a/three:1");
    const targets = await resolvePushTargets({ meta: env.meta, ref: "127.0.0.1:5999/a/two:1" });
    expect(targets.tags.map((t) => [t.tag, t.image.id.toString()])).toEqual([["1", image.id.toString()]]);
    expect(targets.mountFrom).toEqual(["a/one"]);
  });
});

/** A counting proxy that turns the registry's absolute upload Locations into relative ones. */
async function relativeLocationProxy(host: string): Promise<Proxy> {
  const proxy = await startProxy(host, {
    respond(_req, upstream, res) {
      const location = upstream.headers.location;
      if (!location) return false;
      const url = new URL(location, `http://${host}`);
      res.writeHead(upstream.statusCode ?? 502, { ...upstream.headers, location: url.pathname + url.search });
      upstream.pipe(res);
      return true;
    },
  });
  stops.push(() => proxy.close());
  return proxy;
}
