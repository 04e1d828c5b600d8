/**
 * The production server as a newcomer runs it (`pnpm start`: embedded PostgreSQL under the
 * data directory, migrations at start-up, the admin from BERTH_ADMIN_PASSWORD), then the
 * dashboard end to end in headless Chromium, then a restart that keeps everything.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { startRegistry, type ExtraRegistry } from "@berth/fixtures/registry";
import { startUpstream, type Upstream } from "../../../packages/engine/test/registry-helpers";
import { runBuildE2E } from "../e2e/build.e2e";
import { runDashboardE2E } from "../e2e/dashboard.e2e";
import { runPeopleE2E } from "../e2e/people.e2e";
import { runRegistryE2E } from "../e2e/registry.e2e";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const password = "e2e-admin-password";
let dataDir: string;
let port: number;
let server: ChildProcess | undefined;
let log = "";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => resolve(p));
    });
    srv.on("error", reject);
  });
}

async function start(): Promise<void> {
  log = "";
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOSTNAME: "127.0.0.1",
    BERTH_DATA_DIR: dataDir,
    BERTH_ADMIN_PASSWORD: password,
  };
  delete env.DATABASE_URL;
  server = spawn(process.execPath, [path.join(appDir, "node_modules/tsx/dist/cli.mjs"), "server/start.ts"], {
    cwd: appDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (c: Buffer) => (log += c.toString()));
  server.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  for (let i = 0; i < 600; i++) {
    if (server.exitCode !== null) throw new Error(`server exited early:\n${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server did not become healthy:\n${log}`);
}

async function stop(): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server!.once("exit", r));
  server.kill("SIGTERM");
  await exited;
}

function ensureChromium(): void {
  if (existsSync("/usr/bin/chromium")) return;
  execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit" });
}

beforeAll(async () => {
  ensureChromium();
  dataDir = await mkdtemp(path.join(tmpdir(), "berth-e2e-"));
  // As root, the embedded PostgreSQL runs as `postgres`, which must reach the data directory.
  await chmod(dataDir, 0o755);
  port = await freePort();
  await start();
}, 300_000);

afterAll(async () => {
  await stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("berth server", () => {
  it("answers health with the state of the database and the blob volume", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", checks: { database: "ok", blobs: "ok" } });
    expect(existsSync(path.join(dataDir, "postgres"))).toBe(true);
    expect(existsSync(path.join(dataDir, "blobs"))).toBe(true);
  });

  it("walks the dashboard: sign in, load, tag, remove, prune, audit", async () => {
    await runDashboardE2E({
      baseUrl: `http://127.0.0.1:${port}`,
      adminPassword: password,
      archive: path.join(fixtures().archives, "app-1.0.tar"),
      outDir: path.join(appDir, "test-results"),
      log: () => {},
    });
  }, 240_000);

  it("configures a mirror, pulls through it with live progress, pushes, and audits all three", async () => {
    let upstream: Upstream | undefined;
    let mirror: ExtraRegistry | undefined;
    let empty: ExtraRegistry | undefined;
    const emptyStorage = await mkdtemp(path.join(tmpdir(), "berth-e2e-push-"));
    try {
      upstream = await startUpstream();
      // A second registry over the same storage: a mirror that has everything the origin has.
      mirror = await startRegistry(upstream.storage);
      empty = await startRegistry(emptyStorage);
      await runRegistryE2E({
        baseUrl: `http://127.0.0.1:${port}`,
        adminPassword: password,
        origin: upstream.host,
        mirrorUrl: `http://${mirror.host}`,
        // Not loaded by the dashboard walk, so its layers come over the wire.
        image: "fixtures/big:1.0",
        pushTo: empty.host,
        outDir: path.join(appDir, "test-results"),
        log: () => {},
      });
    } finally {
      await mirror?.stop();
      await empty?.stop();
      upstream?.stop();
      await rm(emptyStorage, { recursive: true, force: true });
    }
  }, 300_000);

  it("invites a developer who tags in their namespace, is refused removing a protected tag, and the admin sees both in the audit", async () => {
    await runPeopleE2E({
      baseUrl: `http://127.0.0.1:${port}`,
      adminPassword: password,
      archive: path.join(fixtures().archives, "app-2.0.tar"),
      outDir: path.join(appDir, "test-results"),
      log: () => {},
    });
  }, 240_000);

  it("builds from a pasted Dockerfile with live output, edits a file and commits, and audits both", async () => {
    await runBuildE2E({
      baseUrl: `http://127.0.0.1:${port}`,
      adminPassword: password,
      outDir: path.join(appDir, "test-results"),
      log: () => {},
    });
  }, 240_000);

  it("keeps users, images and the audit log across a restart", async () => {
    await stop();
    await start();
    const signIn = await fetch(`http://127.0.0.1:${port}/api/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const audit = await fetch(`http://127.0.0.1:${port}/api/audit/export?format=jsonl`, { headers: { cookie } });
    const actions = (await audit.text())
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { action: string }).action);
    expect(actions).toEqual(expect.arrayContaining(["image.load", "image.tag", "image.remove", "image.prune", "auth.sign-in"]));
    expect(log).not.toMatch(/created user "admin"/);
  }, 300_000);
});
