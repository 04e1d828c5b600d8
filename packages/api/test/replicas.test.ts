import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@berth/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type Upstream } from "../../engine/test/registry-helpers";
import { bootServer, type Booted } from "../src/boot";
import { createApiServer } from "../src/http/node";
import { apiClient, watchJob } from "./client";

// Two replicas on one database and one blob volume: "web" serves requests and runs no jobs,
// "worker" is another process that runs them and polls only once a minute. What the worker
// does at once, it learnt from the jobs channel.
let database: TestDatabase;
let dataDir: string;
let web: Booted;
let webUrl: string;
let closeWeb: () => Promise<void>;
let worker: ChildProcess;
let upstream: Upstream;
let token: string;

beforeAll(async () => {
  [database, upstream] = await Promise.all([createTestDatabase(), startUpstream()]);
  await database.prisma.$disconnect();
  dataDir = await mkdtemp(path.join(tmpdir(), "berth-replicas-"));
  const blobDir = path.join(dataDir, "blobs");
  web = await bootServer({
    dataDir,
    blobDir,
    databaseUrl: database.url,
    adminPassword: "admin-test-password",
    runJobs: false,
    log: () => {},
  });
  const server = createApiServer(web.services);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  webUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeWeb = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await web.stop();
  };
  worker = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "replica.ts")], {
    env: { ...process.env, DATABASE_URL: database.url, BERTH_DATA_DIR: dataDir, BERTH_BLOB_DIR: blobDir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    worker.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes('"url"') && resolve());
    worker.once("exit", (code) => reject(new Error(`the worker replica exited with ${code}`)));
  });
  const login = await apiClient(webUrl).auth.login.mutate({ username: "admin", password: "admin-test-password", name: "replicas" });
  token = login.token;
}, 60_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.kill("SIGTERM");
    await exited;
  }
  await closeWeb?.();
  upstream?.stop();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("replicas sharing one database", () => {
  it("a pull queued on one replica is run by another at once, and the first one's watcher follows it to the end", async () => {
    const api = apiClient(webUrl, token);
    const { id } = await api.jobs.pull.mutate({ ref: `${upstream.host}/fixtures/app:1.0` });
    const seen = await watchJob(webUrl, token, id, { signal: AbortSignal.timeout(30_000) });
    const last = seen.at(-1)!;
    expect(last.state).toBe("succeeded");
    const job = await api.jobs.get.query({ id });
    // The worker polls once a minute: starting within seconds means the queueing woke it.
    expect(job.startedAt!.getTime() - job.createdAt.getTime()).toBeLessThan(10_000);
    const images = await api.images.list.query({ all: false, filters: {} });
    expect(images.map((i) => `${i.repository}:${i.tag}`)).toContain(`${upstream.host}/fixtures/app:1.0`);
  });

  it("a watcher on one replica hears of every state the other replica writes, not only the last", async () => {
    const api = apiClient(webUrl, token);
    const { id } = await api.jobs.pull.mutate({ ref: `${upstream.host}/fixtures/base:1.0` });
    const seen = await watchJob(webUrl, token, id, { signal: AbortSignal.timeout(30_000) });
    expect(seen.at(-1)!.state).toBe("succeeded");
    // queued (or running) first, then the end: the stream did not just read the finished row.
    expect(seen.length).toBeGreaterThan(1);
  });
});
