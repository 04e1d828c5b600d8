/**
 * The registry half of `pnpm bench`: pull of the 1 GiB image from a CNCF registry on loopback
 * vs `skopeo copy docker://… oci:…`, push to an empty registry vs `skopeo copy oci:… docker://…`,
 * the server's peak RSS growth during both, and 10 concurrent pulls of one image through a
 * byte-counting proxy (bytes fetched upstream ÷ image size).
 */
import { execFileSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { AppRouter } from "@berth/api";
import { freePort, startRegistry } from "@berth/fixtures/registry";
import type { TRPCClient } from "@trpc/client";
import { curlUpload } from "./curl-upload";

export interface RegistryBenchContext {
  api: TRPCClient<AppRouter>;
  /** The server, and the `authorization` header its API wants. */
  url: string;
  authorization: string;
  serverPid: number;
  work: string;
  /** The big fixture's build directory (make-images.sh OUT) and its size. */
  out: string;
  bigMb: number;
  policy: string;
  rounds: number;
  /** Rounds of the "Berth as a registry" comparisons, whose client (skopeo) makes them noisier. */
  servingRounds: number;
  quiet(): Promise<void>;
  peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }>;
  rssOf(pid: number): number;
  timeAsync(cmd: string, args: string[]): Promise<number>;
  median(xs: number[]): number;
  fmt(n: number, d?: number): string;
}

const MiB = 1024 * 1024;
const JOB_WAIT_MS = 10 * 60 * 1000;

/** A job as `jobs.watch` sends it: what the benchmarks read of it. */
export interface WatchedJob {
  state: string;
  error: string | null;
  progress: { lines?: string[] } | null;
}

/**
 * Waits for a job as the dashboard does, on the `jobs.watch` event stream: polling `jobs.get`
 * every few milliseconds would take server CPU from the job being measured. `onSnapshot` sees
 * every state the stream sends, as it arrives.
 */
export async function finished(
  ctx: Pick<RegistryBenchContext, "url" | "authorization">,
  id: string,
  onSnapshot?: (job: WatchedJob) => void,
): Promise<WatchedJob> {
  const input = encodeURIComponent(JSON.stringify({ id }));
  const res = await fetch(`${ctx.url}/api/trpc/jobs.watch?input=${input}`, {
    headers: { accept: "text/event-stream", authorization: ctx.authorization },
    signal: AbortSignal.timeout(JOB_WAIT_MS),
  });
  if (!res.ok || !res.body) throw new Error(`jobs.watch answered ${res.status}`);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = /^data: (.*)$/m.exec(message)?.[1];
      if (/^event: /m.test(message) || !data) continue;
      const job = JSON.parse(data) as WatchedJob;
      onSnapshot?.(job);
      if (job.state !== "queued" && job.state !== "running") return job;
    }
  }
  throw new Error(`job ${id}: the event stream ended before the job did`);
}

/** Seconds each job spent running on the server (started → finished), beside the end-to-end times. */
const serverSide = new Map<string, number[]>();

async function runJob(ctx: RegistryBenchContext, kind: string, start: () => Promise<{ id: string }>, minBytes = 0): Promise<number> {
  const t0 = performance.now();
  const { id } = await start();
  const job = await finished(ctx, id);
  if (job.state !== "succeeded") throw new Error(`job ${id} ${job.state}: ${job.error ?? ""}`);
  const seconds = (performance.now() - t0) / 1000;
  const row = await ctx.api.jobs.get.query({ id });
  // A pull that found its layers in the store measures nothing: every run must fetch the image.
  const fetched = (row.result as { bytes?: number } | null)?.bytes ?? 0;
  if (fetched < minBytes) throw new Error(`${kind} job ${id} fetched ${fetched} bytes of ${minBytes}: the store already held the layers`);
  if (row.startedAt && row.finishedAt) {
    serverSide.set(kind, [...(serverSide.get(kind) ?? []), (row.finishedAt.getTime() - row.startedAt.getTime()) / 1000]);
  }
  return seconds;
}

/** A loopback proxy in front of a registry that counts the blob bytes it passes on. */
async function countingProxy(target: string): Promise<{ host: string; blobBytes(): number; close(): Promise<void> }> {
  let bytes = 0;
  const server = http.createServer((req, res) => {
    const upstream = http.request(`http://${target}${req.url}`, { method: req.method, headers: { ...req.headers, host: target } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      const isBlob = req.method === "GET" && /\/blobs\/sha256:/.test(req.url ?? "");
      if (isBlob) up.on("data", (chunk: Buffer) => (bytes += chunk.length));
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    blobBytes: () => bytes,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function benchRegistry(ctx: RegistryBenchContext): Promise<void> {
  const { api, serverPid, work, out, policy, fmt } = ctx;
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), "../../fixtures/make-images.sh");
  const port = await freePort();
  const env = { ...process.env, OUT: out, BIG_MB: String(ctx.bigMb), UPSTREAM_PORT: String(port), MULTI: "0", SKIP_INSTALL: "1" };
  const run = (...args: string[]) => execFileSync("bash", [script, ...args], { env, stdio: ["ignore", "ignore", "inherit"] });
  // A registry left by an interrupted run of the bench holds this OUT's pidfile.
  try {
    run("stop-upstream");
  } catch {
    // none was running
  }
  run("start-upstream", path.join(work, "upstream"));
  // The archive half loaded this very image (same config, so the same image ID): pulled under
  // another name it would find the image there and keep its layers when untagged.
  await api.images.remove.mutate({ refs: ["fixtures/big:1.0"], force: true }).catch(() => undefined);
  const targets: { stop(): Promise<void> }[] = [];
  try {
    run("push");
    const upstream = `127.0.0.1:${port}`;
    const ref = `${upstream}/fixtures/big:1.0`;
    const bigBytes = imageBytes(ref);

    const berthPull: number[] = [];
    const skopeoPull: number[] = [];
    const berthPush: number[] = [];
    const skopeoPush: number[] = [];
    const curlPush: number[] = [];
    const baseRss = ctx.rssOf(serverPid);
    let pullPeak = baseRss;
    let pushPeak = baseRss;
    const skopeoLayout = path.join(work, "skopeo-pull");

    const emptyRegistry = async (name: string) => {
      const registry = await startRegistry(path.join(work, name));
      targets.push(registry);
      return registry;
    };
    const berthPullRun = async () => {
      await api.images.remove.mutate({ refs: [ref], force: true }).catch(() => undefined);
      await ctx.quiet();
      const pulled = await ctx.peakRss(serverPid, () => runJob(ctx, "pull", () => api.jobs.pull.mutate({ ref }), bigBytes));
      berthPull.push(pulled.result);
      pullPeak = Math.max(pullPeak, pulled.peak);
    };
    const skopeoPullRun = async () => {
      await rm(skopeoLayout, { recursive: true, force: true });
      await ctx.quiet();
      skopeoPull.push(
        await ctx.timeAsync("skopeo", [
          "--policy",
          policy,
          "copy",
          "-q",
          "--src-tls-verify=false",
          `docker://${ref}`,
          `oci:${skopeoLayout}:big`,
        ]),
      );
    };
    const berthPushRun = async (round: number) => {
      const target = await emptyRegistry(`berth-push-${round}`);
      const dest = `${target.host}/bench/big:1.0`;
      await api.images.tag.mutate({ source: ref, target: dest });
      await ctx.quiet();
      const pushed = await ctx.peakRss(serverPid, () => runJob(ctx, "push", () => api.jobs.push.mutate({ ref: dest })));
      berthPush.push(pushed.result);
      pushPeak = Math.max(pushPeak, pushed.peak);
      await api.images.remove.mutate({ refs: [dest] });
      await target.stop();
    };
    const skopeoPushRun = async (round: number) => {
      const target = await emptyRegistry(`skopeo-push-${round}`);
      await ctx.quiet();
      skopeoPush.push(
        await ctx.timeAsync("skopeo", [
          "--policy",
          policy,
          "copy",
          "-q",
          "--dest-tls-verify=false",
          `oci:${skopeoLayout}:big`,
          `docker://${target.host}/bench/big:1.0`,
        ]),
      );
      await target.stop();
    };
    // The target registry's own ceiling: curl -T of the image's largest blob as one monolithic
    // upload (POST, then PUT with the body), the least a client can do to push it.
    const curlPushRun = async (round: number) => {
      const target = await emptyRegistry(`curl-push-${round}`);
      const layout = JSON.parse(readFileSync(path.join(skopeoLayout, "index.json"), "utf8")) as {
        manifests: { digest: string }[];
      };
      const manifestDigest = layout.manifests[0]!.digest;
      const manifest = JSON.parse(readFileSync(path.join(skopeoLayout, "blobs/sha256", manifestDigest.slice(7)), "utf8")) as {
        layers: { digest: string; size: number }[];
      };
      const biggest = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
      await ctx.quiet();
      curlPush.push(
        await curlUpload(ctx.timeAsync, {
          host: target.host,
          repository: "bench/big",
          file: path.join(skopeoLayout, "blobs/sha256", biggest.digest.slice(7)),
          digest: biggest.digest,
        }),
      );
      await target.stop();
    };
    for (let round = 0; round < ctx.rounds; round++) {
      if (round % 2 === 0) {
        await skopeoPullRun();
        await berthPullRun();
        await skopeoPushRun(round);
        await berthPushRun(round);
        await curlPushRun(round);
      } else {
        await berthPullRun();
        await skopeoPullRun();
        await curlPushRun(round);
        await berthPushRun(round);
        await skopeoPushRun(round);
      }
    }

    // 10 people pull the same image at once: upstream should see its bytes once.
    await api.images.remove.mutate({ refs: [ref], force: true });
    const proxy = await countingProxy(upstream);
    const viaProxy = `${proxy.host}/fixtures/big:1.0`;
    const t0 = performance.now();
    const ids = await Promise.all(Array.from({ length: 10 }, () => api.jobs.pull.mutate({ ref: viaProxy })));
    const states = await Promise.all(ids.map(({ id }) => finished(ctx, id)));
    const concurrentSeconds = (performance.now() - t0) / 1000;
    await proxy.close();
    const failed = states.filter((s) => s.state !== "succeeded");

    const { median } = ctx;
    const line = (what: string, berth: number[], peer: number[], peerName: string, target: string) =>
      `${what}: Berth ${fmt(median(berth), 2)} s (${fmt(bigBytes / MiB / median(berth), 0)} MB/s) | ${peerName} ${fmt(median(peer), 2)} s (${fmt(bigBytes / MiB / median(peer), 0)} MB/s) | ratio ${fmt(median(peer) / median(berth), 2)} (target ${target}); runs Berth [${berth.map((x) => fmt(x, 2)).join(", ")}] peer [${peer.map((x) => fmt(x, 2)).join(", ")}]`;
    console.log(
      `\n## registry (fixtures/big:1.0, ${fmt(bigBytes / MiB, 0)} MiB of blobs, CNCF registry on loopback; median of ${ctx.rounds} runs each, taking turns at going first)`,
    );
    console.log(line("pull", berthPull, skopeoPull, "skopeo copy docker://… oci:…", "≥ 1.2"));
    console.log(line("push to an empty registry", berthPush, skopeoPush, "skopeo copy oci:… docker://…", "≥ 1.0"));
    console.log(
      `the target registry's ceiling, curl -T of the largest blob alone: ${fmt(median(curlPush), 2)} s; Berth's push takes ${fmt(median(berthPush) / median(curlPush), 2)}× that, skopeo's ${fmt(median(skopeoPush) / median(curlPush), 2)}×; runs [${curlPush.map((x) => fmt(x, 2)).join(", ")}]`,
    );
    const ran = (kind: string) => (serverSide.get(kind) ?? []).map((x) => fmt(x, 2)).join(", ");
    console.log(`time the jobs ran on the server (started → finished): pulls [${ran("pull")}] s, pushes [${ran("push")}] s`);
    console.log(
      `server RSS: baseline ${fmt(baseRss / MiB, 0)} MiB, peak growth during pulls ${fmt((pullPeak - baseRss) / MiB, 0)} MiB, during pushes ${fmt((pushPeak - baseRss) / MiB, 0)} MiB (target ≤ 150 MiB)`,
    );
    console.log(
      `10 concurrent pulls of the same image: ${fmt(proxy.blobBytes() / MiB, 1)} MiB fetched upstream for a ${fmt(bigBytes / MiB, 1)} MiB image → ${fmt(proxy.blobBytes() / bigBytes, 2)} (target 1.0); ${10 - failed.length}/10 succeeded in ${fmt(concurrentSeconds, 2)} s${failed.length ? `; failures: ${failed.map((f) => f.error).join("; ")}` : ""}`,
    );
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
    run("stop-upstream");
  }
}

/** Config + layer bytes of the image the registry serves (what one pull fetches), from its manifest. */
export function imageBytes(ref: string): number {
  const raw = execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" });
  const manifest = JSON.parse(raw) as { config: { size: number }; layers: { size: number }[] };
  return manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
}
