/**
 * Berth as a docker daemon's `registry-mirrors` entry: a real CNCF registry on loopback stands in
 * for docker.io (the team's docker.io settings list it as a mirror, behind a counting proxy), and
 * requests come with a bearer token from Berth's token server, as a daemon sends them after
 * `docker login`. Official-image names (`library/<name>`) are cached as the images `berth pull` stores.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { startProxy, startUpstream, type Proxy, type Upstream } from "../../engine/test/registry-helpers";
import { hashPassword } from "../src/auth/secrets";
import { bootTestServer, type TestServer } from "../src/testing";
import { skopeo } from "./skopeo";
import { apiClient } from "./client";

const fx = fixtures();

let upstream: Upstream;
let proxy: Proxy;
let server: TestServer;
let api: ReturnType<typeof apiClient>;
let dir: string;

/** Copies a fixture inside the upstream registry to an official-image name, as Docker Hub would hold it. */
async function publish(from: string, to: string, all = false): Promise<void> {
  const tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
  await skopeo("copy", ...tls, ...(all ? ["--all"] : []), `docker://${upstream.host}/${from}`, `docker://${upstream.host}/${to}`);
}

/** Mirrors only: when the loopback mirror fails, nothing falls back to the real Docker Hub. */
async function mirrorThrough(host: string): Promise<void> {
  await api.registries.save.mutate({ domain: "docker.io", mirrorsOnly: true, mirrors: [`http://${host}`] });
}

/** A daemon's token for pulling `repo` (Basic credentials to Berth's token server). */
async function pullToken(repo: string, creds = `admin:${server.adminPassword}`): Promise<string> {
  const basic = Buffer.from(creds).toString("base64");
  const res = await fetch(`${server.url}/v2/token?service=berth&scope=repository:${repo}:pull`, {
    headers: { authorization: `Basic ${basic}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

async function manifest(repo: string, reference: string, method = "GET", creds?: string): Promise<Response> {
  return fetch(`${server.url}/v2/${repo}/manifests/${reference}`, {
    method,
    headers: {
      authorization: `Bearer ${await pullToken(repo, creds)}`,
      accept: [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
      ].join(", "),
    },
  });
}

const manifestRequests = (p: Proxy, repo: string) => p.requests.filter((r) => r.url.startsWith(`/v2/${repo}/manifests/`)).length;
const digestOf = (ref: string) => upstream.images.find((i) => i.ref === ref)!.upstreamDigest;

beforeAll(async () => {
  [upstream, server] = await Promise.all([startUpstream(), bootTestServer()]);
  proxy = await startProxy(upstream.host);
  api = apiClient(server.url, await server.token());
  await mirrorThrough(proxy.host);
  server.services.mirrorTtlSeconds = 3600;
  dir = mkdtempSync(path.join(tmpdir(), "berth-mirror-"));
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  upstream?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the pull-through mirror", () => {
  it("fills an official image it does not hold from docker.io, stores it as `berth pull` would, audited under the token's owner", async () => {
    await publish("fixtures/app:1.0", "library/app:1.0");
    const res = await manifest("library/app", "1.0");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf("fixtures/app:1.0"));

    const images = await api.images.list.query();
    expect(images.some((i) => i.repository === "app" && i.tag === "1.0" && i.id === fx.image("fixtures/app:1.0").configDigest)).toBe(true);

    const { events } = await api.audit.list.query({ action: "image.pull", limit: 10 });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorName: "admin", interface: "registry", result: "ok" });
    expect(events[0]!.details).toMatchObject({ mirror: { cachedFrom: "docker.io", reference: "1.0" } });
    expect(events[0]!.targets[0]?.ref).toBe("app:1.0");

    const row = await server.services.db.mirrorCache.findFirst({ where: { repository: "docker.io/library/app", reference: "1.0" } });
    expect(row).toMatchObject({ pulledByName: "admin", upstreamDigest: digestOf("fixtures/app:1.0") });
    // What the image page shows as "cached from docker.io".
    const cache = await api.images.mirrorCache.query({ ref: "app:1.0" });
    expect(cache).toMatchObject([{ ref: "app:1.0", cachedFrom: "docker.io", lastPulledBy: "admin" }]);
  });

  it("serves later requests, and the image's blobs, from the cache without asking upstream", async () => {
    const before = manifestRequests(proxy, "library/app");
    for (const method of ["GET", "HEAD"]) {
      const res = await manifest("library/app", "1.0", method);
      expect(res.status).toBe(200);
      expect(res.headers.get("docker-content-digest")).toBe(digestOf("fixtures/app:1.0"));
    }
    const config = fx.image("fixtures/app:1.0").configDigest;
    const blob = await fetch(`${server.url}/v2/library/app/blobs/${config}`, {
      headers: { authorization: `Bearer ${await pullToken("library/app")}` },
    });
    expect(blob.status).toBe(200);
    expect(manifestRequests(proxy, "library/app")).toBe(before);
  });

  it("lets a viewer read what is cached, but not fill the cache (a fill is a pull: developer), audited as denied", async () => {
    await server.services.db.user.create({
      data: { username: "vera", role: "viewer", passwordHash: await hashPassword("vera-password-1") },
    });
    const vera = "vera:vera-password-1";
    expect((await manifest("library/app", "1.0", "GET", vera)).status).toBe(200);
    await publish("fixtures/app:2.0", "library/app:2.0");
    const before = manifestRequests(proxy, "library/app");
    const res = await manifest("library/app", "2.0", "GET", vera);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errors: { code: string; message: string }[] }).errors[0]).toMatchObject({
      code: "DENIED",
      message: expect.stringMatching(/developer role/) as unknown,
    });
    expect(manifestRequests(proxy, "library/app")).toBe(before);
    const { events } = await api.audit.list.query({ action: "image.pull", limit: 20 });
    expect(events.find((e) => e.result === "denied")).toMatchObject({ actorName: "vera", interface: "registry" });
  });

  it("answers MANIFEST_UNKNOWN for what docker.io does not have either", async () => {
    const res = await manifest("library/app", "no-such-tag");
    expect(res.status).toBe(404);
    const error = ((await res.json()) as { errors: { code: string; message: string }[] }).errors[0];
    expect(error?.code).toBe("MANIFEST_UNKNOWN");
    expect(error?.message).toContain("docker.io is set to use its mirrors only (no fall-back to the origin)");
  });

  it("serves a multi-platform image as upstream's index, and the platform manifest it pulled", async () => {
    await publish("fixtures/multi:1.0", "library/multi:1.0", true);
    const res = await manifest("library/multi", "1.0");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf("fixtures/multi:1.0"));
    const index = (await res.json()) as { manifests: { digest: string; platform: { architecture: string } }[] };
    const amd64 = index.manifests.find((m) => m.platform.architecture === "amd64")!;
    const child = await manifest("library/multi", amd64.digest);
    expect(child.status).toBe(200);
    expect(child.headers.get("docker-content-digest")).toBe(amd64.digest);
    // A daemon on another platform asks for its own manifest next: filled by digest.
    const arm64 = index.manifests.find((m) => m.platform.architecture === "arm64")!;
    const other = await manifest("library/multi", arm64.digest);
    expect(other.status).toBe(200);
    expect(other.headers.get("docker-content-digest")).toBe(arm64.digest);
  });

  it("copies through Berth with skopeo, filling the cache on the way", async () => {
    await publish("fixtures/base:1.0", "library/base:1.0");
    const out = path.join(dir, "base");
    const host = new URL(server.url).host;
    await skopeo(
      "copy",
      "--src-tls-verify=false",
      "--src-creds",
      `admin:${server.adminPassword}`,
      `docker://${host}/library/base:1.0`,
      `oci:${out}:base`,
    );
    const config = JSON.parse(await skopeo("inspect", "--config", `oci:${out}:base`)) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(fx.image("fixtures/base:1.0").layers.map((l) => l.diffID));
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: unknown[] };
    expect(index.manifests).toHaveLength(1);
  });

  it("after the TTL with upstream down, serves the stale copy and audits the failed revalidation", async () => {
    await proxy.close();
    server.services.mirrorTtlSeconds = 0;
    const res = await manifest("library/app", "1.0");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf("fixtures/app:1.0"));
    const { events } = await api.audit.list.query({ action: "image.pull", limit: 20 });
    const failed = events.find((e) => e.result === "failed" && (e.details as { revalidation?: string }).revalidation === "failed");
    expect(failed).toMatchObject({ actorName: "admin", interface: "registry" });
    expect(failed?.error).toContain("docker.io is set to use its mirrors only (no fall-back to the origin)");
  });

  it("after the TTL with the tag moved upstream, pulls and serves the new digest", async () => {
    proxy = await startProxy(upstream.host);
    await mirrorThrough(proxy.host);
    await publish("fixtures/app:2.0", "library/app:1.0");
    const res = await manifest("library/app", "1.0");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(digestOf("fixtures/app:2.0"));
    const images = await api.images.list.query();
    expect(images.find((i) => i.repository === "app" && i.tag === "1.0")?.id).toBe(fx.image("fixtures/app:2.0").configDigest);
  });

  it("tells machines how to use Berth as their Docker Hub mirror, at the address they reached it", async () => {
    const { berthMirror } = await api.registries.daemonJson.query();
    expect(JSON.parse(berthMirror!.daemonJson)).toEqual({ "registry-mirrors": [server.url] });
    expect(berthMirror!.hostsToml.path).toBe("/etc/containerd/certs.d/docker.io/hosts.toml");
    expect(berthMirror!.hostsToml.text).toContain(`[host."${server.url}"]\n  capabilities = ["pull", "resolve"]`);
  });

  it("keeps a repository people push to their own: a missing tag there is not fetched from docker.io", async () => {
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      `admin:${server.adminPassword}`,
      `oci:${fx.layout}:fixtures/app:1.0`,
      `docker://${new URL(server.url).host}/team-a/app:1.0`,
    );
    await publish("fixtures/app:1.0", "team-a/app:2.0");
    const before = manifestRequests(proxy, "team-a/app");
    const res = await manifest("team-a/app", "2.0");
    expect(res.status).toBe(404);
    expect(manifestRequests(proxy, "team-a/app")).toBe(before);
    // Pushed, not cached: no "cached from docker.io" (its image lost app:1.0 when that tag moved upstream).
    expect(await api.images.mirrorCache.query({ ref: "team-a/app:1.0" })).toEqual([]);
  });

  it("mirrors a registry named in ?ns= (as containerd sends it) only once the team has set that registry up", async () => {
    await publish("fixtures/base:1.0", "acme/tool:1.0");
    const viaNs = async (ns: string) =>
      fetch(`${server.url}/v2/acme/tool/manifests/1.0?ns=${encodeURIComponent(ns)}`, {
        headers: { authorization: `Bearer ${await pullToken(`${ns}/acme/tool`)}`, accept: "application/vnd.oci.image.manifest.v1+json" },
      });
    const before = manifestRequests(proxy, "acme/tool");
    // Not set up: not Berth's to fetch (a daemon then goes to quay.io itself), and not Docker Hub's acme/tool either.
    const unknown = await viaNs("quay.io");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("MANIFEST_UNKNOWN");
    expect(manifestRequests(proxy, "acme/tool")).toBe(before);

    await api.registries.save.mutate({ domain: "quay.io", mirrorsOnly: true, mirrors: [`http://${proxy.host}`] });
    const filled = await viaNs("quay.io");
    expect(filled.status).toBe(200);
    expect(filled.headers.get("docker-content-digest")).toBe(digestOf("fixtures/base:1.0"));
    // The same image as Docker Hub's base:1.0, cached a second time from another registry.
    expect(await api.images.mirrorCache.query({ ref: "quay.io/acme/tool:1.0" })).toContainEqual(
      expect.objectContaining({ ref: "quay.io/acme/tool:1.0", cachedFrom: "quay.io", lastPulledBy: "admin" }),
    );

    // podman and CRI-O name the registry in the path instead (a mirror location of `berth/quay.io`).
    const inPath = await fetch(`${server.url}/v2/quay.io/acme/tool/manifests/1.0`, {
      headers: { authorization: `Bearer ${await pullToken("quay.io/acme/tool")}`, accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(inPath.headers.get("docker-content-digest")).toBe(digestOf("fixtures/base:1.0"));

    for (const ns of ["quay.io/other", "Quay.io", "quay", "quay.io:port", "../quay.io"]) {
      const bad = await fetch(`${server.url}/v2/acme/tool/manifests/1.0?ns=${encodeURIComponent(ns)}`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: { code: string; message: string }[] }).errors[0]).toMatchObject({
        code: "NAME_INVALID",
        message: `invalid ns ${JSON.stringify(ns)}: expected a registry's host name, such as ghcr.io or registry.internal:5000`,
      });
    }
  });
});
