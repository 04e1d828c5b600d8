/**
 * `pnpm bench`: Berth against skopeo on this machine, in one run.
 *  - load and save throughput of a 1 GiB image (fixtures BIG_MB=1024) vs
 *    `skopeo copy docker-archive→oci` and `oci→docker-archive`, as ratios (skopeo time / Berth time);
 *  - peak RSS growth of the server process during them;
 *  - `images` list latency p50/p95 with 10,000 images and 20,000 tags.
 * Not part of the tests; prints figures only.
 */
import { execFileSync, spawn } from "node:child_process";
import http from "node:http";
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@berth/api";
import pg from "pg";
import { transformer } from "@berth/api/transformer";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
// eslint-disable-next-line no-restricted-properties -- bench knobs
const env = process.env;
const bigMb = Number(env.BIG_MB ?? 1024);
const out = path.join(repo, ".cache", `fixtures-big-${bigMb}`);
const listImages = Number(env.BENCH_IMAGES ?? 10_000);
const listTags = Number(env.BENCH_TAGS ?? 20_000);

const MiB = 1024 * 1024;
const fmt = (n: number, d = 1) => n.toFixed(d);

function timeSync(cmd: string, args: string[]): number {
  const t0 = performance.now();
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
  return (performance.now() - t0) / 1000;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples a process's resident memory while `work` runs; returns the peak. */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, rssOf(pid)) };
  } finally {
    clearInterval(timer);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  console.log(`# Berth benchmark — ${new Date().toISOString()}`);
  console.log(`command: pnpm bench (BIG_MB=${bigMb}); machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${fmt(os.totalmem() / 1024 ** 3, 0)} GiB, Node ${process.version}`);

  const script = path.join(repo, "tooling/fixtures/make-images.sh");
  const fixtureEnv = { ...env, OUT: out, BIG_MB: String(bigMb), MULTI: "0" };
  execFileSync("bash", [script, "make"], { env: fixtureEnv, stdio: ["ignore", "ignore", "inherit"] });
  execFileSync("bash", [script, "archives"], { env: fixtureEnv, stdio: ["ignore", "ignore", "inherit"] });
  const archive = path.join(out, "archives/big-1.0.tar");
  const policy = path.join(out, ".cache/policy.json");
  const size = statSync(archive).size;
  console.log(`image: fixtures/big:1.0, archive ${fmt(size / MiB, 0)} MiB`);

  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-"));
  // As root, the embedded PostgreSQL runs as `postgres`, which must reach its data directory.
  await chmod(work, 0o755);
  const server = spawn("npx", ["tsx", path.join(repo, "tooling/bench/src/serve.ts"), path.join(work, "data"), path.join(work, "data/blobs"), "bench-password"], {
    stdio: ["ignore", "pipe", "inherit"],
    env,
  });
  try {
    const ready = await new Promise<{ url: string; databaseUrl: string; pid: number }>((resolve, reject) => {
      let buf = "";
      server.stdout.on("data", (c: Buffer) => {
        buf += c.toString();
        const line = buf.split("\n").find((l) => l.startsWith("{"));
        if (line) resolve(JSON.parse(line) as { url: string; databaseUrl: string; pid: number });
      });
      server.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
    });
    const serverPid = ready.pid;
    const login = await fetch(`${ready.url}/api/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "bench-password", name: "bench" }),
    });
    const token = ((await login.json()) as { result: { data: { token: string } } }).result.data.token;
    const auth = { authorization: `Bearer ${token}` };

    // --- load: Berth upload vs skopeo docker-archive → oci
    const skopeoLoad = timeSync("skopeo", ["--policy", policy, "copy", "-q", `docker-archive:${archive}`, `oci:${work}/skopeo-oci:big`]);
    const baseRss = rssOf(serverPid);
    const load = await peakRss(serverPid, async () => {
      const t0 = performance.now();
      // Node's http client, as the CLI would stream a file: the measure is the server's.
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${ready.url}/api/images/load?source=big.tar`, {
          method: "POST",
          headers: { ...auth, "content-length": String(size) },
        }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        createReadStream(archive, { highWaterMark: 1 * MiB }).pipe(req);
      });
      if (status !== 200) throw new Error(`load failed with HTTP ${status}`);
      return (performance.now() - t0) / 1000;
    });

    // --- save: Berth download vs skopeo oci → docker-archive
    const skopeoSave = timeSync("skopeo", ["--policy", policy, "copy", "-q", `oci:${work}/skopeo-oci:big`, `docker-archive:${work}/skopeo-save.tar:fixtures/big:1.0`]);
    const save = await peakRss(serverPid, async () => {
      const t0 = performance.now();
      const res = await fetch(`${ready.url}/api/images/save?ref=fixtures/big:1.0`, { headers: auth });
      if (!res.ok || !res.body) throw new Error(`save failed: ${await res.text()}`);
      await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(`${work}/berth-save.tar`));
      return (performance.now() - t0) / 1000;
    });
    const savedSize = statSync(`${work}/berth-save.tar`).size;

    console.log("\n## archives (1 GiB image)");
    console.log(`load: Berth ${fmt(load.result, 2)} s (${fmt(size / MiB / load.result, 0)} MB/s) | skopeo docker-archive→oci ${fmt(skopeoLoad, 2)} s (${fmt(size / MiB / skopeoLoad, 0)} MB/s) | ratio ${fmt(skopeoLoad / load.result, 2)} (target ≥ 1.2)`);
    console.log(`save: Berth ${fmt(save.result, 2)} s (${fmt(savedSize / MiB / save.result, 0)} MB/s) | skopeo oci→docker-archive ${fmt(skopeoSave, 2)} s (${fmt(savedSize / MiB / skopeoSave, 0)} MB/s) | ratio ${fmt(skopeoSave / save.result, 2)} (target ≥ 1.2)`);
    console.log(`server RSS: baseline ${fmt(baseRss / MiB, 0)} MiB, peak growth during load ${fmt((load.peak - baseRss) / MiB, 0)} MiB, during save ${fmt((save.peak - baseRss) / MiB, 0)} MiB (target ≤ 150 MiB)`);

    // --- images list with many images and tags, seeded straight into the database
    const db = new pg.Client({ connectionString: ready.databaseUrl });
    await db.connect();
    await db.query(`
      INSERT INTO images (id, created, architecture, os, size, config_size, labels, loaded_at)
      SELECT 'sha256:' || encode(sha256(('bench' || g)::bytea), 'hex'), now() - g * interval '1 minute', 'amd64', 'linux',
             1000000 + g, 1000, '{}'::jsonb, now()
      FROM generate_series(1, $1) g`, [listImages]);
    await db.query(`
      INSERT INTO image_layers (image_id, position, diff_id, blob, blob_size, size, media_type)
      SELECT 'sha256:' || encode(sha256(('bench' || g)::bytea), 'hex'), p,
             'sha256:' || encode(sha256(('layer' || (CASE WHEN p = 0 THEN 0 ELSE g END))::bytea), 'hex'),
             'sha256:' || encode(sha256(('layer' || (CASE WHEN p = 0 THEN 0 ELSE g END))::bytea), 'hex'),
             500000, 500000, 'application/vnd.oci.image.layer.v1.tar'
      FROM generate_series(1, $1) g, generate_series(0, 1) p`, [listImages]);
    await db.query(`
      INSERT INTO tags (repository, tag, image_id)
      SELECT 'docker.io/bench/repo' || (t % 500), 'v' || t, 'sha256:' || encode(sha256(('bench' || (1 + t % $1))::bytea), 'hex')
      FROM generate_series(1, $2) t`, [listImages, listTags]);
    await db.query("ANALYZE");
    await db.end();

    const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${ready.url}/api/trpc`, transformer, headers: () => auth })] });
    const samples: number[] = [];
    let rows = 0;
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      rows = (await api.images.list.query({ all: false, filters: {} })).length;
      if (i >= 10) samples.push(performance.now() - t0); // first calls warm up
    }
    samples.sort((a, b) => a - b);
    console.log(`\n## images list (${listImages} images, ${listTags} tags; ${rows} rows; ${samples.length} calls over HTTP)`);
    console.log(`p50 ${fmt(percentile(samples, 50))} ms, p95 ${fmt(percentile(samples, 95))} ms (target p95 ≤ 50 ms)`);
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    if (existsSync(work)) await rm(work, { recursive: true, force: true });
  }
}

await main();
