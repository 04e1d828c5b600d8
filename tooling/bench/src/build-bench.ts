/**
 * The build part of `pnpm bench`: the 20-instruction, 3-stage Dockerfile of build-fixture.ts on a
 * generated context (BUILD_CONTEXT_MB, default 64), built through the server as the CLI does it:
 * the directory packed with the engine's openDirectoryContext + packContext, streamed to
 * POST /api/images/build, the job followed to its end. Three figures, each the median of
 * BENCH_ROUNDS runs, against `buildah bud` (vfs storage under the work dir) in the same run:
 *  - cold: `nocache=1` vs `buildah bud --layers=false`;
 *  - cached: same context again, every step but FROM "Using cache", vs `--layers=true` with its cache filled;
 *  - one source file changed: the steps before `COPY src/` cached, the rest run, vs `--layers=true`.
 * Ratios are buildah's time ÷ Berth's (above 1: Berth is faster). A failed Berth build, or output
 * that does not show the expected cache use, stops the bench; a buildah failure is printed and
 * Berth's figures stand alone.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import type { Readable } from "node:stream";
import { openDirectoryContext, packContext } from "@berth/engine";
import { changeSource, INSTRUCTIONS, makeBuildContext, SOURCE_STEP } from "./build-fixture";
import { finished, type RegistryBenchContext, type WatchedJob } from "./registry-bench";

export type BuildBenchContext = Pick<
  RegistryBenchContext,
  "api" | "url" | "authorization" | "serverPid" | "work" | "rounds" | "quiet" | "peakRss" | "rssOf" | "median" | "fmt"
> & {
  /** Size of the generated context (BUILD_CONTEXT_MB). */
  contextMb: number;
};

const MiB = 1024 * 1024;
const TAG = "bench/build:1";
const BUILD_ARGS = { VENDOR_DIR: "vendor" };

interface BerthRun {
  /** Pack + upload + job, end to end, as the user waits for it. */
  seconds: number;
  /** Until the server answered the upload with the job's id. */
  upload: number;
  /** The job on the server, started → finished. */
  server: number;
  lines: string[];
  /** Seconds from the job's start to the arrival of each line on the watch stream. */
  arrivals: number[];
  cachedSteps: number;
}

type Kind = "cold" | "cached" | "partial";

interface StepOutput {
  step: number;
  text: string;
  cached: boolean;
}

/** The context tar as the CLI streams it (node:http, so the body is never buffered). */
function upload(url: string, authorization: string, body: Readable): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { authorization, "content-type": "application/x-tar" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    body.on("error", (err) => req.destroy(err));
    body.pipe(req);
  });
}

/** Follows the job (registry-bench's `finished`) and notes when each output line arrived: the steps' durations to within a progress write. */
async function follow(ctx: BuildBenchContext, id: string, t0: number): Promise<{ job: WatchedJob; arrivals: number[] }> {
  const arrivals: number[] = [];
  const job = await finished(ctx, id, (snapshot) => {
    const at = (performance.now() - t0) / 1000;
    for (let i = arrivals.length; i < (snapshot.progress?.lines?.length ?? 0); i++) arrivals.push(at);
  });
  return { job, arrivals };
}

/** `berth build -t bench/build:1 --build-arg VENDOR_DIR=vendor [--no-cache] DIR`, timed from the directory walk to the job's end. */
async function berthBuild(ctx: BuildBenchContext, dir: string, noCache: boolean): Promise<BerthRun> {
  const t0 = performance.now();
  const query = new URLSearchParams({ t: TAG });
  for (const [k, v] of Object.entries(BUILD_ARGS)) query.append("buildarg", `${k}=${v}`);
  if (noCache) query.set("nocache", "1");
  const context = await openDirectoryContext(dir, { dockerfilePath: "Dockerfile" });
  let id: string;
  let uploaded: number;
  try {
    const res = await upload(
      `${ctx.url}/api/images/build?${query.toString()}`,
      ctx.authorization,
      packContext(context, { alwaysInclude: ["Dockerfile", ".dockerignore"] }),
    );
    if (res.status >= 400) throw new Error(`POST /api/images/build answered ${res.status}: ${res.body}`);
    uploaded = (performance.now() - t0) / 1000;
    id = (JSON.parse(res.body) as { id: string }).id;
  } finally {
    await context.close();
  }
  const { job, arrivals } = await follow(ctx, id, t0);
  const seconds = (performance.now() - t0) / 1000;
  const row = await ctx.api.jobs.get.query({ id });
  const lines = (row.progress as { lines?: string[] } | null)?.lines ?? [];
  if (job.state !== "succeeded") {
    throw new Error(`build job ${id} ${job.state}: ${job.error ?? ""}\n${lines.slice(-15).join("\n")}`);
  }
  const result = row.result as { cachedSteps?: number } | null;
  const server = row.startedAt && row.finishedAt ? (row.finishedAt.getTime() - row.startedAt.getTime()) / 1000 : NaN;
  return { seconds, upload: uploaded, server, lines, arrivals, cachedSteps: result?.cachedSteps ?? -1 };
}

/**
 * Where a build's time went, median over the runs, the three longest: each step from its header
 * to the next (or "Successfully built"), as the lines arrived; "start" from the job's id to Step 1
 * (queue, opening the uploaded context), "tag" from "Successfully built" to the job's end.
 */
function slowestSteps(runs: BerthRun[], median: (xs: number[]) => number, fmt: (n: number, d?: number) => string): string {
  const durations = new Map<string, number[]>();
  const note = (name: string, seconds: number) => durations.set(name, [...(durations.get(name) ?? []), seconds]);
  for (const run of runs) {
    let open: { name: string; at: number } | undefined = { name: "start", at: run.upload };
    run.lines.forEach((line, i) => {
      const at = run.arrivals[i] ?? NaN;
      const header = /^Step (\d+)\/\d+ : (.*)$/.exec(line);
      const built = line.startsWith("Successfully built");
      if (!header && !built) return;
      if (open) note(open.name, at - open.at);
      open = header ? { name: `${header[1]} ${header[2]!.slice(0, 32)}`, at } : { name: "tag", at };
    });
    if (open) note(open.name, run.seconds - open.at);
  }
  return [...durations]
    .map(([name, xs]) => ({ name, seconds: median(xs) }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, 3)
    .map((s) => `${s.name} ${fmt(s.seconds, 2)} s`)
    .join("; ");
}

/** Each "Step n/N : …" header with whether " ---> Using cache" followed it before the next step. */
function stepsOf(lines: string[]): StepOutput[] {
  const steps: StepOutput[] = [];
  for (const line of lines) {
    const header = /^Step (\d+)\/\d+ : (.*)$/.exec(line);
    if (header) steps.push({ step: Number(header[1]), text: header[2]!, cached: false });
    else if (line === " ---> Using cache" && steps.length) steps[steps.length - 1]!.cached = true;
  }
  return steps;
}

/**
 * Fails loudly unless the output shows every step, and the cache used exactly where expected:
 * "cold" nowhere, "cached" on every step but FROM, "partial" on the non-FROM steps before `COPY src/`.
 */
function checkOutput(kind: Kind, run: BerthRun): void {
  const steps = stepsOf(run.lines);
  const fail = (why: string) => {
    throw new Error(`${kind} build: ${why}\n${run.lines.join("\n")}`);
  };
  if (steps.length !== INSTRUCTIONS || !run.lines.includes(`Step ${INSTRUCTIONS}/${INSTRUCTIONS} : CMD ["--port", "8080"]`)) {
    fail(`expected ${INSTRUCTIONS} steps, the output shows ${steps.length}`);
  }
  if (!run.lines.some((l) => /^Successfully built [0-9a-f]{12}$/.test(l))) fail('no "Successfully built" line');
  if (!run.lines.includes(`Successfully tagged ${TAG}`)) fail(`no "Successfully tagged ${TAG}" line`);
  const changedAt = steps.findIndex((s) => s.text === SOURCE_STEP);
  steps.forEach((s, i) => {
    const cacheable = !s.text.startsWith("FROM ");
    const expected = kind === "cold" ? false : kind === "cached" ? cacheable : cacheable && i < changedAt;
    if (s.cached !== expected) fail(`step ${s.step} (${s.text}) ${s.cached ? "came from the cache" : 'shows no " ---> Using cache"'}`);
  });
  const expectedCached = steps.filter((s) => s.cached).length;
  if (run.cachedSteps !== expectedCached) fail(`the job reports ${run.cachedSteps} cached steps, the output ${expectedCached}`);
}

/** buildah with its own storage under the work dir; output kept for the error message and the cache count. */
function buildah(root: string, args: string[]): Promise<{ seconds: number; output: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      "buildah",
      ["--root", path.join(root, "root"), "--runroot", path.join(root, "run"), "--storage-driver", "vfs", ...args],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolve({ seconds, output });
      else reject(new Error(`buildah ${args[0]} exited with ${code}: ${output.trim().split("\n").slice(-8).join(" | ")}`));
    });
  });
}

/** buildah from the distribution when missing (as apps/web/test/server.test.ts gets chromium); why not, when it cannot be had. */
function ensureBuildah(): string | undefined {
  if (existsSync("/usr/bin/buildah")) return undefined;
  try {
    execFileSync("apt-get", ["install", "-y", "-qq", "buildah"], { stdio: ["ignore", "ignore", "inherit"] });
    return undefined;
  } catch (err) {
    return `buildah is not installed and apt-get install buildah failed: ${(err as Error).message}`;
  }
}

export async function benchBuild(ctx: BuildBenchContext): Promise<void> {
  const { fmt, median, quiet, serverPid } = ctx;
  const dir = path.join(ctx.work, "build-context");
  const buildahRoot = path.join(ctx.work, "buildah");
  await mkdir(dir, { recursive: true });
  const made = await makeBuildContext(dir, ctx.contextMb);
  if (INSTRUCTIONS !== 20) throw new Error(`the bench Dockerfile has ${INSTRUCTIONS} instructions, not 20`);

  let buildahError = ensureBuildah();
  const buildahArgs = (layers: boolean) => [
    "bud",
    `--layers=${layers}`,
    "--format",
    "docker", // HEALTHCHECK and the classic builder's config, as Berth writes them
    ...Object.entries(BUILD_ARGS).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    "-f",
    path.join(dir, "Dockerfile"),
    "-t",
    "bench:1",
    dir,
  ];
  const peer = { cold: [] as number[], cached: [] as number[], partial: [] as number[] };
  /** Steps buildah took from its cache, per run. */
  const peerCached = { cold: [] as number[], cached: [] as number[], partial: [] as number[] };
  /** One buildah run (untimed without a kind); its first failure is kept, and later runs are skipped. */
  const buildahRun = async (kind: Kind | undefined, layers: boolean, prepare?: () => Promise<void>) => {
    if (buildahError) return;
    try {
      await prepare?.();
      await quiet();
      const run = await buildah(buildahRoot, buildahArgs(layers));
      if (!kind) return;
      peer[kind].push(run.seconds);
      peerCached[kind].push((run.output.match(/^--> Using cache /gm) ?? []).length);
    } catch (err) {
      buildahError = (err as Error).message;
    }
  };

  const baseRss = ctx.rssOf(serverPid);
  const peaks = { cold: baseRss, cached: baseRss, partial: baseRss };
  const berth = { cold: [] as BerthRun[], cached: [] as BerthRun[], partial: [] as BerthRun[] };
  const berthRun = async (kind: Kind) => {
    await quiet();
    const { result, peak } = await ctx.peakRss(serverPid, () => berthBuild(ctx, dir, kind === "cold"));
    checkOutput(kind, result);
    berth[kind].push(result);
    peaks[kind] = Math.max(peaks[kind], peak);
  };
  /** Whoever goes second pays for the first one's writeback: they take turns. */
  const inTurn = async (round: number, first: () => Promise<void>, second: () => Promise<void>) => {
    if (round % 2 === 0) {
      await first();
      await second();
    } else {
      await second();
      await first();
    }
  };

  try {
    // Cold: Berth without its cache; buildah from empty storage, without layer caching.
    for (let round = 0; round < ctx.rounds; round++) {
      await inTurn(
        round,
        () => berthRun("cold"),
        () => buildahRun("cold", false, () => rm(buildahRoot, { recursive: true, force: true })),
      );
    }
    // Cached: Berth's cache holds the cold builds' steps; buildah's is filled by one untimed run.
    await buildahRun(undefined, true);
    for (let round = 0; round < ctx.rounds; round++) {
      await inTurn(
        round,
        () => berthRun("cached"),
        () => buildahRun("cached", true),
      );
    }
    // One source file changed before each round: both see the same new content, neither has it cached.
    for (let round = 0; round < ctx.rounds; round++) {
      await changeSource(dir, round);
      await inTurn(
        round,
        () => berthRun("partial"),
        () => buildahRun("partial", true),
      );
    }

    const secs = (runs: BerthRun[], pick: (r: BerthRun) => number = (r) => r.seconds) => runs.map(pick);
    const list = (xs: number[]) => `[${xs.map((x) => fmt(x, 2)).join(", ")}]`;
    const cacheable = INSTRUCTIONS - 3;
    const partialCached = berth.partial[0]?.cachedSteps ?? 0;
    const line = (what: string, runs: BerthRun[], peerRuns: number[], peerName: string) => {
      const b = median(secs(runs));
      const rate = `${fmt(made.bytes / MiB / b, 0)} MB/s of context`;
      if (peerRuns.length !== runs.length)
        return `${what}: Berth ${fmt(b, 2)} s (${rate}) | ${peerName}: no figure; runs Berth ${list(secs(runs))}`;
      const p = median(peerRuns);
      return `${what}: Berth ${fmt(b, 2)} s (${rate}) | ${peerName} ${fmt(p, 2)} s | ratio ${fmt(p / b, 2)}; runs Berth ${list(secs(runs))} peer ${list(peerRuns)}`;
    };
    console.log(
      `\n## build (${INSTRUCTIONS}-instruction, 3-stage Dockerfile without RUN; context ${made.files} files, ${fmt(made.bytes / MiB, 1)} MiB, .dockerignore leaves out ${made.ignored} more; median of ${ctx.rounds} runs each, taking turns at going first)`,
    );
    console.log(line("cold (--no-cache)", berth.cold, peer.cold, "buildah bud --layers=false"));
    console.log(line(`cached (${cacheable}/${cacheable} steps "Using cache")`, berth.cached, peer.cached, "buildah bud --layers=true"));
    console.log(
      line(
        `one source file changed (${partialCached}/${cacheable} steps cached, ${cacheable - partialCached} run)`,
        berth.partial,
        peer.partial,
        "buildah bud --layers=true",
      ),
    );
    console.log(
      `Berth time split: pack + upload until the job id cold ${list(secs(berth.cold, (r) => r.upload))}, cached ${list(secs(berth.cached, (r) => r.upload))}, partial ${list(secs(berth.partial, (r) => r.upload))} s; job on the server (started → finished) cold ${list(secs(berth.cold, (r) => r.server))}, cached ${list(secs(berth.cached, (r) => r.server))}, partial ${list(secs(berth.partial, (r) => r.server))} s`,
    );
    console.log(
      `slowest steps (median, as their output arrived): cold ${slowestSteps(berth.cold, median, fmt)} | cached ${slowestSteps(berth.cached, median, fmt)} | partial ${slowestSteps(berth.partial, median, fmt)}`,
    );
    if (buildahError) console.log(`buildah: no figures (${buildahError})`);
    else {
      const taken = (kind: Kind) => peerCached[kind].join(", ");
      console.log(`steps buildah took from its cache, per run: cached [${taken("cached")}], partial [${taken("partial")}] of ${cacheable}`);
    }
    console.log(
      `server RSS: baseline ${fmt(baseRss / MiB, 0)} MiB, peak growth during cold builds ${fmt((peaks.cold - baseRss) / MiB, 0)} MiB, cached ${fmt((peaks.cached - baseRss) / MiB, 0)} MiB, partial ${fmt((peaks.partial - baseRss) / MiB, 0)} MiB (target ≤ 150 MiB)`,
    );
  } finally {
    await ctx.api.images.remove.mutate({ refs: [TAG], force: true }).catch(() => undefined);
    await rm(buildahRoot, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}
