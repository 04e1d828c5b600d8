/**
 * Berth as a registry for podman (Debian's, as root, vfs storage in a private root): `podman
 * login` with a password, `podman push` of a fixture image, `podman pull` of it back, and a
 * wrong password refused. What podman pushed is an ordinary image of Berth, audited under the
 * person who logged in.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { startUpstream } from "../../engine/test/registry-helpers";
import { bootTestServer, type TestServer } from "../src/testing";
import { skopeo } from "./skopeo";
import { apiClient } from "./client";

const run = promisify(execFile);
const fx = fixtures();

let server: TestServer;
let host: string;
let dir: string;

/** podman with its own storage and auth file, so nothing of the machine's is used or changed. */
async function podman(...args: string[]): Promise<string> {
  const base = ["--root", path.join(dir, "root"), "--runroot", path.join(dir, "run"), "--storage-driver", "vfs"];
  try {
    const { stdout } = await run("podman", [...base, ...args], {
      env: {
        ...process.env,
        REGISTRY_AUTH_FILE: path.join(dir, "auth.json"),
        CONTAINERS_REGISTRIES_CONF: path.join(dir, "registries.conf"),
      },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    throw new Error(`podman ${args.join(" ")}: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
}

beforeAll(async () => {
  if (!existsSync("/usr/bin/podman")) execFileSync("apt-get", ["install", "-y", "-qq", "podman"], { stdio: "inherit" });
  server = await bootTestServer();
  host = new URL(server.url).host;
  dir = mkdtempSync(path.join(tmpdir(), "berth-podman-"));
  writeFileSync(path.join(dir, "registries.conf"), "");
}, 300_000);
afterAll(async () => {
  await server?.close();
  if (dir) {
    await podman("system", "reset", "--force").catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("podman against Berth's /v2/", () => {
  it("logs in, pushes an image, and pulls it back with the same ID", async () => {
    const app = fx.image("fixtures/app:1.0");
    await podman("login", "--tls-verify=false", "-u", "admin", "-p", server.adminPassword, host);
    await podman("load", "-q", "-i", path.join(fx.archives, "app-1.0.tar"));
    await podman("tag", app.configDigest.slice(7), `${host}/team-a/podman:1.0`);
    await podman("push", "-q", "--tls-verify=false", `${host}/team-a/podman:1.0`);

    const api = apiClient(server.url, await server.token());
    const rows = await api.images.list.query({ all: false, filters: {} });
    expect(rows.find((r) => r.repository === "team-a/podman" && r.tag === "1.0")?.id.toString()).toBe(app.configDigest);
    const { events } = await api.audit.list.query({ action: "image.push", limit: 5 });
    expect(events[0]).toMatchObject({ actorName: "admin", result: "ok" });

    await podman("rmi", "-f", `${host}/team-a/podman:1.0`, app.configDigest.slice(7));
    const pulled = (await podman("pull", "-q", "--tls-verify=false", `${host}/team-a/podman:1.0`)).trim();
    expect(`sha256:${pulled}`).toBe(app.configDigest);
  }, 120_000);

  it("pulls Docker Hub and ghcr.io images through Berth as its mirror, the registry named in the mirror location", async () => {
    const upstream = await startUpstream();
    try {
      const api = apiClient(server.url, await server.token());
      // docker.io and ghcr.io, for Berth, are the loopback registry: never the real ones.
      for (const domain of ["docker.io", "ghcr.io"])
        await api.registries.save.mutate({ domain, mirrorsOnly: true, mirrors: [`http://${upstream.host}`] });
      const tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
      await skopeo("copy", ...tls, `docker://${upstream.host}/fixtures/base:1.0`, `docker://${upstream.host}/library/base:1.0`);
      await skopeo("copy", ...tls, `docker://${upstream.host}/fixtures/app:2.0`, `docker://${upstream.host}/acme/tool:2.0`);
      // As the Registries page says: Berth as the mirror location, with the registry after it for any but Docker Hub.
      const mirrored = (prefix: string, location: string) =>
        `[[registry]]\nprefix = "${prefix}"\nlocation = "${prefix}"\n[[registry.mirror]]\nlocation = "${location}"\ninsecure = true\n`;
      writeFileSync(path.join(dir, "registries.conf"), [mirrored("docker.io", host), mirrored("ghcr.io", `${host}/ghcr.io`)].join("\n"));
      await podman("login", "--tls-verify=false", "-u", "admin", "-p", server.adminPassword, host);

      // Were the mirror not answering, podman would go to the real registries, which it cannot reach here.
      const base = (await podman("pull", "-q", "docker.io/library/base:1.0")).trim();
      expect(`sha256:${base}`).toBe(fx.image("fixtures/base:1.0").configDigest);
      const tool = (await podman("pull", "-q", "ghcr.io/acme/tool:2.0")).trim();
      expect(`sha256:${tool}`).toBe(fx.image("fixtures/app:2.0").configDigest);
      expect(await api.images.mirrorCache.query({ ref: "ghcr.io/acme/tool:2.0" })).toContainEqual(
        expect.objectContaining({ ref: "ghcr.io/acme/tool:2.0", cachedFrom: "ghcr.io", lastPulledBy: "admin" }),
      );
      expect(await api.images.mirrorCache.query({ ref: "base:1.0" })).toContainEqual(
        expect.objectContaining({ ref: "base:1.0", cachedFrom: "docker.io" }),
      );
    } finally {
      writeFileSync(path.join(dir, "registries.conf"), "");
      upstream.stop();
    }
  }, 120_000);

  it("refuses a wrong password", async () => {
    await expect(podman("login", "--tls-verify=false", "-u", "admin", "-p", "wrong-password", host)).rejects.toThrow(
      /unauthorized|invalid/i,
    );
  });
});
