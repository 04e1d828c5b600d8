/**
 * Berth as a real daemon's Docker Hub mirror: containerd (Debian's, as root, in a private root
 * with its own socket) reads the hosts.toml Berth prints on the Registries page, signs in with a
 * Berth API token as the page says, and pulls an official image Berth does not hold. A real CNCF
 * registry on loopback stands in for docker.io; Berth fills its cache from it, and the pull is an
 * ordinary cached image, audited under the token's owner. It also pushes to Berth with that token.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { startUpstream, type Upstream } from "../../engine/test/registry-helpers";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, uploadArchive } from "./client";
import { skopeo } from "./skopeo";

const run = promisify(execFile);
const fx = fixtures();

let upstream: Upstream;
let server: TestServer;
let api: ReturnType<typeof apiClient>;
let dir: string;
let containerd: ChildProcess | undefined;

const socket = () => path.join(dir, "containerd.sock");

async function ctr(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("ctr", ["--address", socket(), ...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    throw new Error(`ctr ${args.join(" ")}: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
}

/** containerd with nothing of the machine's: its own root, state and socket, no CRI. */
async function startContainerd(): Promise<ChildProcess> {
  const config = path.join(dir, "config.toml");
  writeFileSync(
    config,
    [
      "version = 2",
      `root = ${JSON.stringify(path.join(dir, "root"))}`,
      `state = ${JSON.stringify(path.join(dir, "state"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      `  address = ${JSON.stringify(socket())}`,
      "[ttrpc]",
      `  address = ${JSON.stringify(path.join(dir, "containerd-ttrpc.sock"))}`,
      "",
    ].join("\n"),
  );
  const child = spawn("containerd", ["--config", config], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    if (
      await ctr("version").then(
        () => true,
        () => false,
      )
    )
      return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error("containerd did not answer on its socket within 10 s");
}

beforeAll(async () => {
  if (!existsSync("/usr/bin/containerd")) execFileSync("apt-get", ["install", "-y", "-qq", "containerd"], { stdio: "inherit" });
  dir = mkdtempSync(path.join(tmpdir(), "berth-containerd-"));
  [upstream, server] = await Promise.all([startUpstream(), bootTestServer()]);
  api = apiClient(server.url, await server.token());
  // docker.io, for Berth, is the loopback registry: only that, never the real Docker Hub.
  // So are ghcr.io and a registry of the team's own on a port, which the team has set up too.
  for (const domain of ["docker.io", "ghcr.io", "registry.internal:5000"])
    await api.registries.save.mutate({ domain, mirrorsOnly: true, mirrors: [`http://${upstream.host}`] });
  const tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
  await skopeo("copy", ...tls, `docker://${upstream.host}/fixtures/app:1.0`, `docker://${upstream.host}/library/app:1.0`);
  await skopeo("copy", ...tls, `docker://${upstream.host}/fixtures/app:2.0`, `docker://${upstream.host}/acme/tool:2.0`);
  containerd = await startContainerd();
}, 300_000);

afterAll(async () => {
  containerd?.kill();
  await server?.close();
  upstream?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The hosts.toml directory and `--user` credentials, set up by the first fetch. */
let signIn: { hostsDir: string; user: string } | undefined;

/** containerd set up as the Registries page says: its hosts.toml files and a Berth API token (once). */
async function signedIn(): Promise<{ hostsDir: string; user: string }> {
  if (!signIn) {
    const { berthMirror } = await api.registries.daemonJson.query();
    const hostsDir = path.join(dir, "certs.d");
    // The page names the files; under a private directory instead of /etc/containerd/certs.d.
    for (const { path: at, text } of [berthMirror!.hostsToml, ...berthMirror!.otherRegistries]) {
      const file = path.join(hostsDir, path.relative("/etc/containerd/certs.d", at));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    const { token } = await api.tokens.create.mutate({ name: "containerd", expiresInDays: 1 });
    signIn = { hostsDir, user: `admin:${token}` };
  }
  return signIn;
}

/** `ctr content fetch` (a pull without unpacking) through Berth as the machine's mirror. */
async function fetchThroughBerth(ref: string, ...flags: string[]): Promise<void> {
  const { hostsDir, user } = await signedIn();
  await ctr("content", "fetch", "--hosts-dir", hostsDir, "--user", user, ...flags, ref);
}

describe("containerd with Berth as its Docker Hub mirror and as a registry", () => {
  it("pulls an official image through Berth with the hosts.toml Berth prints and an API token", async () => {
    await fetchThroughBerth("docker.io/library/app:1.0");

    const app = fx.image("fixtures/app:1.0");
    const upstreamDigest = upstream.images.find((i) => i.ref === "fixtures/app:1.0")!.upstreamDigest;
    expect(await ctr("images", "ls", "-q")).toContain("docker.io/library/app:1.0");
    const content = await ctr("content", "ls", "-q");
    for (const digest of [upstreamDigest, app.configDigest, ...app.layers.map((l) => l.digest)]) expect(content).toContain(digest);
    // Berth holds it as an ordinary image, cached from docker.io, pulled by the token's owner.
    const images = await api.images.list.query();
    expect(images.some((i) => i.repository === "app" && i.tag === "1.0" && i.id === app.configDigest)).toBe(true);
    expect(await api.images.mirrorCache.query({ ref: "app:1.0" })).toMatchObject([
      { ref: "app:1.0", cachedFrom: "docker.io", lastPulledBy: "admin" },
    ]);
    const { events } = await api.audit.list.query({ action: "image.pull", limit: 5 });
    expect(events[0]).toMatchObject({ actorName: "admin", interface: "registry", result: "ok" });
    expect(events[0]!.userAgent).toMatch(/containerd/);
    const row = await server.services.db.mirrorCache.findFirst({ where: { repository: "docker.io/library/app", reference: "1.0" } });
    expect(row?.upstreamDigest).toBe(upstreamDigest);
  });

  it("pushes to Berth as a registry of its own, signed in with the same token", async () => {
    await fetchThroughBerth("docker.io/library/app:1.0");
    const target = `${new URL(server.url).host}/team-c/app:1.0`;
    await ctr("images", "tag", "--force", "docker.io/library/app:1.0", target);
    await ctr("images", "push", "--plain-http", "--user", (await signedIn()).user, target);

    const images = await api.images.list.query();
    const pushed = images.find((i) => i.repository === "team-c/app" && i.tag === "1.0");
    expect(pushed?.id).toBe(fx.image("fixtures/app:1.0").configDigest);
    const { events } = await api.audit.list.query({ action: "image.push", limit: 5 });
    expect(events[0]).toMatchObject({ actorName: "admin", interface: "registry", result: "ok" });
    expect(events[0]!.userAgent).toMatch(/containerd/);
  });

  it("pulls another registry set up here through Berth too: containerd names it, Berth caches it as that registry's", async () => {
    const { berthMirror } = await api.registries.daemonJson.query();
    expect(berthMirror!.otherRegistries.map((r) => [r.domain, r.path])).toEqual([
      ["ghcr.io", "/etc/containerd/certs.d/ghcr.io/hosts.toml"],
      ["registry.internal:5000", "/etc/containerd/certs.d/registry.internal:5000/hosts.toml"],
    ]);

    await fetchThroughBerth("ghcr.io/acme/tool:2.0");

    const app = fx.image("fixtures/app:2.0");
    const content = await ctr("content", "ls", "-q");
    for (const digest of [app.configDigest, ...app.layers.map((l) => l.digest)]) expect(content).toContain(digest);
    const images = await api.images.list.query();
    expect(images.some((i) => i.repository === "ghcr.io/acme/tool" && i.tag === "2.0" && i.id === app.configDigest)).toBe(true);
    expect(await api.images.mirrorCache.query({ ref: "ghcr.io/acme/tool:2.0" })).toMatchObject([
      { ref: "ghcr.io/acme/tool:2.0", cachedFrom: "ghcr.io", lastPulledBy: "admin" },
    ]);
  });

  it("pulls a registry with a port through Berth: containerd's ?ns= names it, which a repository path cannot", async () => {
    await fetchThroughBerth("registry.internal:5000/acme/tool:2.0");

    const app = fx.image("fixtures/app:2.0");
    const content = await ctr("content", "ls", "-q");
    for (const digest of [app.configDigest, ...app.layers.map((l) => l.digest)]) expect(content).toContain(digest);
    // The same image as ghcr.io's acme/tool:2.0 (the previous test), cached once more from this registry.
    expect(await api.images.mirrorCache.query({ ref: "registry.internal:5000/acme/tool:2.0" })).toContainEqual(
      expect.objectContaining({ ref: "registry.internal:5000/acme/tool:2.0", cachedFrom: "registry.internal:5000", lastPulledBy: "admin" }),
    );
    const { events } = await api.audit.list.query({ action: "image.pull", limit: 1 });
    expect(events[0]).toMatchObject({ actorName: "admin", interface: "registry", result: "ok" });
    expect(events[0]!.targets[0]!.ref).toBe("registry.internal:5000/acme/tool:2.0");
  });

  it("pulls and unpacks an image loaded from a docker archive, whose manifest Berth builds", async () => {
    // A docker archive has no manifest: the one Berth serves is its own, and unpacking checks
    // every layer against the config's diff_ids.
    const loaded = await uploadArchive(server.url, await server.token(), await readFile(path.join(fx.archives, "base-1.0.tar")));
    expect(loaded.status).toBe(200);
    await api.images.tag.mutate({ source: "fixtures/base:1.0", target: "team-c/loaded:1.0" });
    const ref = `${new URL(server.url).host}/team-c/loaded:1.0`;
    await ctr("images", "pull", "--plain-http", "--snapshotter", "native", "--user", (await signedIn()).user, ref);

    const base = fx.image("fixtures/base:1.0");
    const snapshots = await ctr("snapshots", "--snapshotter", "native", "ls");
    // One committed snapshot per layer, named by the chain of the config's diff_ids.
    expect(snapshots).toContain(base.layers[0]!.diffID);
    expect((await ctr("images", "ls", "-q")).split("\n")).toContain(ref);
  });

  it("pulls its own platform of a multi-platform image: upstream's index, then that platform's manifest", async () => {
    const tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
    await skopeo("copy", ...tls, "--all", `docker://${upstream.host}/fixtures/multi:1.0`, `docker://${upstream.host}/library/multi:1.0`);
    const res = await fetch(`http://${upstream.host}/v2/library/multi/manifests/1.0`, {
      headers: { accept: "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json" },
    });
    const indexDigest = res.headers.get("docker-content-digest")!;
    const { manifests } = (await res.json()) as { manifests: { digest: string; platform: { architecture: string } }[] };
    const arm64 = manifests.find((m) => m.platform.architecture === "arm64")!;
    const amd64 = manifests.find((m) => m.platform.architecture === "amd64")!;

    await fetchThroughBerth("docker.io/library/multi:1.0", "--platform", "linux/arm64");

    const content = await ctr("content", "ls", "-q");
    expect(content).toContain(indexDigest);
    expect(content).toContain(arm64.digest);
    expect(content).not.toContain(amd64.digest);
    const row = await server.services.db.mirrorCache.findFirst({ where: { repository: "docker.io/library/multi", reference: "1.0" } });
    expect(row?.upstreamDigest).toBe(indexDigest);
  });
});
