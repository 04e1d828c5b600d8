/**
 * `pnpm bench`: Berth against skopeo on this machine, in one run.
 *  - load and save throughput of a 1 GiB image (fixtures BIG_MB=1024) vs
 *    `skopeo copy docker-archive→oci` and `oci→docker-archive`, as ratios (skopeo time / Berth time);
 *  - peak RSS growth of the server process during them;
 *  - pull from / push to a CNCF registry on loopback vs skopeo, and 10 concurrent pulls of one
 *    image (bytes fetched upstream ÷ image size), see registry-bench.ts;
 *  - Berth as a registry: skopeo push to / pull from Berth's /v2/ vs the CNCF registry, and 20
 *    concurrent pulls (aggregate MB/s), see serving-bench.ts;
 *  - a 20-instruction, 3-stage Dockerfile built through the server cold, cached and after one source file
 *    changed (context of BUILD_CONTEXT_MB, default 64) vs `buildah bud`, see build-bench.ts;
 *  - `images` list latency p50/p95 with 10,000 images and 20,000 tags;
 *  - audit log: filtered pages of 50 at 5,000,000 events (AUDIT_EVENTS), see audit-bench.ts.
 * Skip parts with BENCH_SKIP_ARCHIVES=1, BENCH_SKIP_REGISTRY=1, BENCH_SKIP_SERVING=1, BENCH_SKIP_BUILD=1,
 * BENCH_SKIP_AUDIT=1 (AUDIT_VERIFY=0 skips re-walking the whole chain at the end). BENCH_ROUNDS (4) runs of
 * each comparison, BENCH_SERVING_ROUNDS (6) of the "Berth as a registry" ones.
 * Not part of the tests; prints figures only.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { untilIdle } from "./cpu";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@berth/api";
import pg from "pg";
import { transformer } from "@berth/api/transformer";
import { applyMigrations } from "@berth/db";
import { benchAudit } from "./audit-bench";
import { benchBuild } from "./build-bench";
import { benchRegistry } from "./registry-bench";
import { benchServing } from "./serving-bench";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
// eslint-disable-next-line no-restricted-properties -- bench knobs
const env = process.env;
const bigMb = Number(env.BIG_MB ?? 1024);
const out = path.join(repo, ".cache", `fixtures-big-${bigMb}`);
const listImages = Number(env.BENCH_IMAGES ?? 10_000);
const listTags = Number(env.BENCH_TAGS ?? 20_000);
const auditEvents = Number(env.AUDIT_EVENTS ?? 5_000_000);
const buildContextMb = Number(env.BUILD_CONTEXT_MB ?? 64);

const MiB = 1024 * 1024;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 4);
const fmt = (n: number, d = 1): string => n.toFixed(d);

function timeSync(cmd: string, args: string[]): number {
  const t0 = performance.now();
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
  return (performance.now() - t0) / 1000;
}

/** Runs a command without blocking the event loop (the RSS sampler keeps ticking). */
function timeAsync(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

function rssOf(pid: number): number {
  return statusBytes(pid, "VmRSS");
}

/** A memory figure of a process from /proc: VmRSS now, or VmHWM, its high-water mark (reset by `resetPeakRss`). */
function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
}

/** Sets the process's high-water mark back to its resident memory now; false where that is not allowed. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * A process's peak resident memory while `work` runs. The kernel keeps the peak itself, so nothing
 * samples during the work: sampling every 20 ms took CPU, on two cores, from the client of the one
 * server watched (Berth) and not from the other's; it also missed peaks between samples. Where the
 * peak cannot be reset, it samples.
 */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  if (resetPeakRss(pid)) {
    const result = await work();
    return { result, peak: statusBytes(pid, "VmHWM") };
  }
  let peak = rssOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, rssOf(pid)) };
  } finally {
    clearInterval(timer);
  }
}

function med(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  console.log(`# Berth benchmark — ${new Date().toISOString()}`);
  console.log(
    `command: pnpm bench (BIG_MB=${bigMb}); machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${fmt(os.totalmem() / 1024 ** 3, 0)} GiB, Node ${process.version}`,
  );

  const script = path.join(repo, "tooling/fixtures/make-images.sh");
  const fixtureEnv = { ...env, OUT: out, BIG_MB: String(bigMb), MULTI: "0" };
  // Only the archive and registry figures need the 1 GiB image.
  const needsImage = env.BENCH_SKIP_ARCHIVES !== "1" || env.BENCH_SKIP_REGISTRY !== "1" || env.BENCH_SKIP_SERVING !== "1";
  if (needsImage) {
    execFileSync("bash", [script, "make"], { env: fixtureEnv, stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("bash", [script, "archives"], { env: fixtureEnv, stdio: ["ignore", "ignore", "inherit"] });
  }
  const archive = path.join(out, "archives/big-1.0.tar");
  const policy = path.join(out, ".cache/policy.json");
  const size = needsImage ? statSync(archive).size : 0;
  if (needsImage) console.log(`image: fixtures/big:1.0, archive ${fmt(size / MiB, 0)} MiB`);

  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-"));
  // As root, the embedded PostgreSQL runs as `postgres`, which must reach its data directory.
  await chmod(work, 0o755);
  // The server runs as its own Node process (tsx loader) so its memory can be watched.
  const server = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(repo, "tooling/bench/src/serve.ts"),
      path.join(work, "data"),
      path.join(work, "data/blobs"),
      "bench-password",
    ],
    {
      cwd: path.join(repo, "tooling/bench"),
      stdio: ["ignore", "pipe", "inherit"],
      env,
    },
  );
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

    // Each side runs ROUNDS times, taking turns at going first, after `sync` and a pause so
    // neither pays for the other's writes; medians are compared. Between Berth loads the image is removed (and its
    // blobs with it), so every load writes the whole layer.
    const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${ready.url}/api/trpc`, transformer, headers: () => auth })] });
    // Flush and let the disk settle, so a run does not pay for the previous one's writes.
    const quiet = async () => {
      await untilIdle(serverPid);
      execFileSync("sync");
      await new Promise((r) => setTimeout(r, 2000));
    };
    const berthLoad: number[] = [];
    const skopeoLoad: number[] = [];
    const berthSave: number[] = [];
    const skopeoSave: number[] = [];
    const baseRss = rssOf(serverPid);
    let loadPeak = baseRss;
    let savePeak = baseRss;
    const skopeoLoadRun = async () => {
      await rm(`${work}/skopeo-oci`, { recursive: true, force: true });
      await quiet();
      skopeoLoad.push(timeSync("skopeo", ["--policy", policy, "copy", "-q", `docker-archive:${archive}`, `oci:${work}/skopeo-oci:big`]));
    };
    const berthLoadRun = async (round: number) => {
      if (round > 0) await api.images.remove.mutate({ refs: ["fixtures/big:1.0"], force: true });
      await quiet();
      // curl is the client (`curl -T`, as a script would upload): the figures are the server's.
      const load = await peakRss(serverPid, () =>
        timeAsync("curl", [
          "-sSf",
          "-X",
          "POST",
          "-H",
          `authorization: ${auth.authorization}`,
          "-T",
          archive,
          "-o",
          "/dev/null",
          `${ready.url}/api/images/load?source=big.tar`,
        ]),
      );
      berthLoad.push(load.result);
      loadPeak = Math.max(loadPeak, load.peak);
    };
    const skopeoSaveRun = async () => {
      await rm(`${work}/skopeo-save.tar`, { force: true });
      await quiet();
      skopeoSave.push(
        timeSync("skopeo", [
          "--policy",
          policy,
          "copy",
          "-q",
          `oci:${work}/skopeo-oci:big`,
          `docker-archive:${work}/skopeo-save.tar:fixtures/big:1.0`,
        ]),
      );
    };
    const berthSaveRun = async () => {
      await rm(`${work}/berth-save.tar`, { force: true });
      await quiet();
      const save = await peakRss(serverPid, () =>
        timeAsync("curl", [
          "-sSf",
          "-H",
          `authorization: ${auth.authorization}`,
          "-o",
          `${work}/berth-save.tar`,
          `${ready.url}/api/images/save?ref=fixtures/big:1.0`,
        ]),
      );
      berthSave.push(save.result);
      savePeak = Math.max(savePeak, save.peak);
    };
    if (env.BENCH_SKIP_ARCHIVES !== "1") {
      for (let round = 0; round < ROUNDS; round++) {
        // Whoever writes second pays for the first one's writeback on this VM: take turns.
        if (round % 2 === 0) {
          await skopeoLoadRun();
          await berthLoadRun(round);
          await skopeoSaveRun();
          await berthSaveRun();
        } else {
          await berthLoadRun(round);
          await skopeoLoadRun();
          await berthSaveRun();
          await skopeoSaveRun();
        }
      }
      const savedSize = statSync(`${work}/berth-save.tar`).size;
      const line = (what: string, berth: number[], peer: number[], peerName: string, bytes: number) =>
        `${what}: Berth ${fmt(med(berth), 2)} s (${fmt(bytes / MiB / med(berth), 0)} MB/s) | ${peerName} ${fmt(med(peer), 2)} s (${fmt(bytes / MiB / med(peer), 0)} MB/s) | ratio ${fmt(med(peer) / med(berth), 2)} (target ≥ 1.2); runs Berth [${berth.map((x) => fmt(x, 2)).join(", ")}] peer [${peer.map((x) => fmt(x, 2)).join(", ")}]`;

      console.log(`\n## archives (1 GiB image; median of ${ROUNDS} runs each, taking turns at going first)`);
      console.log(line("load", berthLoad, skopeoLoad, "skopeo docker-archive→oci", size));
      console.log(line("save", berthSave, skopeoSave, "skopeo oci→docker-archive", savedSize));
      console.log(
        `server RSS: baseline ${fmt(baseRss / MiB, 0)} MiB, peak growth during loads ${fmt((loadPeak - baseRss) / MiB, 0)} MiB, during saves ${fmt((savePeak - baseRss) / MiB, 0)} MiB (target ≤ 150 MiB)`,
      );
    }

    const registryCtx = {
      api,
      url: ready.url,
      authorization: auth.authorization,
      serverPid,
      work,
      out,
      bigMb,
      policy,
      rounds: ROUNDS,
      servingRounds: Number(env.BENCH_SERVING_ROUNDS ?? Math.max(ROUNDS, 6)),
      quiet,
      peakRss,
      rssOf,
      timeAsync,
      median: med,
      fmt,
    };
    if (env.BENCH_SKIP_REGISTRY !== "1") await benchRegistry(registryCtx);
    if (env.BENCH_SKIP_SERVING !== "1") await benchServing(registryCtx);
    // Before the images list seeds its 10,000 images: builds run on the store a user would have.
    if (env.BENCH_SKIP_BUILD !== "1") await benchBuild({ ...registryCtx, contextMb: buildContextMb });

    // --- images list with many images and tags, seeded straight into the database
    const db = new pg.Client({ connectionString: ready.databaseUrl });
    await db.connect();
    await db.query(
      `
      INSERT INTO images (id, created, architecture, os, size, config_size, labels, loaded_at)
      SELECT 'sha256:' || encode(sha256(('bench' || g)::bytea), 'hex'), now() - g * interval '1 minute', 'amd64', 'linux',
             1000000 + g, 1000, '{}'::jsonb, now()
      FROM generate_series(1, $1) g`,
      [listImages],
    );
    await db.query(
      `
      INSERT INTO image_layers (image_id, position, diff_id, blob, blob_size, size, media_type)
      SELECT 'sha256:' || encode(sha256(('bench' || g)::bytea), 'hex'), p,
             'sha256:' || encode(sha256(('layer' || (CASE WHEN p = 0 THEN 0 ELSE g END))::bytea), 'hex'),
             'sha256:' || encode(sha256(('layer' || (CASE WHEN p = 0 THEN 0 ELSE g END))::bytea), 'hex'),
             500000, 500000, 'application/vnd.oci.image.layer.v1.tar'
      FROM generate_series(1, $1) g, generate_series(0, 1) p`,
      [listImages],
    );
    await db.query(
      `
      INSERT INTO tags (repository, tag, image_id)
      SELECT 'docker.io/bench/repo' || (t % 500), 'v' || t, 'sha256:' || encode(sha256(('bench' || (1 + t % $1))::bytea), 'hex')
      FROM generate_series(1, $2) t`,
      [listImages, listTags],
    );
    await db.query("ANALYZE");
    await db.end();

    const measure = async (call: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < 110; i++) {
        const t0 = performance.now();
        await call();
        if (i >= 10) samples.push(performance.now() - t0); // the first calls warm caches up
      }
      return samples.sort((x, y) => x - y);
    };
    const rows = (await api.images.list.query({ all: false, filters: {} })).length;
    const page = await measure(() => api.images.page.query({ limit: 50 }));
    const search = await measure(() => api.images.page.query({ limit: 50, search: "repo42", sort: { column: "size", dir: "desc" } }));
    const full = await measure(() => api.images.list.query({ all: false, filters: {} }));
    console.log(
      `\n## images list (${listImages} images, ${listTags} tags → ${rows} rows; 100 calls each over HTTP, after 10 warm-up calls)`,
    );
    console.log(
      `dashboard page of 50 (newest first): p50 ${fmt(percentile(page, 50))} ms, p95 ${fmt(percentile(page, 95))} ms (target p95 ≤ 50 ms)`,
    );
    console.log(
      `dashboard page of 50 with search + size sort: p50 ${fmt(percentile(search, 50))} ms, p95 ${fmt(percentile(search, 95))} ms`,
    );
    console.log(
      `full \`images\` list (all ${rows} rows, as the CLI prints them): p50 ${fmt(percentile(full, 50))} ms, p95 ${fmt(percentile(full, 95))} ms`,
    );

    if (env.BENCH_SKIP_AUDIT !== "1") {
      // A database of its own on the same server, migrated as the server's is: the seeded log
      // must not interleave with events the parts above are still writing.
      const auditUrl = new URL(ready.databaseUrl);
      const admin = new pg.Client({ connectionString: ready.databaseUrl });
      await admin.connect();
      await admin.query("DROP DATABASE IF EXISTS berth_audit_bench");
      await admin.query("CREATE DATABASE berth_audit_bench");
      await admin.end();
      auditUrl.pathname = "/berth_audit_bench";
      await applyMigrations(auditUrl.toString());
      await benchAudit({ databaseUrl: auditUrl.toString(), events: auditEvents, verify: env.AUDIT_VERIFY !== "0" });
    }
  } finally {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
    if (existsSync(work)) await rm(work, { recursive: true, force: true });
  }
}

await main();
