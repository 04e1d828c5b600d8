/**
 * The "Berth is a registry" part of `pnpm bench`: Berth's /v2/ against the CNCF distribution
 * registry serving the same 1 GiB image on loopback, with the same clients:
 *  - skopeo push of the image (`skopeo copy oci:… docker://…`), into an empty store each run;
 *  - skopeo pull of it (`skopeo copy docker://… oci:…`), after one untimed pull from each;
 *  - 20 concurrent pulls of it, by curl processes fetching manifest, config and layers into
 *    /dev/null (so the disk of 20 GiB of copies does not decide), as aggregate MB/s;
 *  - skopeo push of a small image (fixtures/app:1.0) to a new repository each time, where the
 *    per-request costs (auth, database) decide rather than the bytes;
 *  - Berth's peak RSS growth through all of it.
 * Ratios are distribution's time ÷ Berth's (above 1: Berth is faster).
 */
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { startRegistry, type ExtraRegistry } from "@berth/fixtures/registry";
import { cpuSeconds, untilIdle } from "./cpu";
import { curlUpload } from "./curl-upload";
import { imageBytes, type RegistryBenchContext } from "./registry-bench";

const MiB = 1024 * 1024;
const CONCURRENT = 20;
const SMALL_PUSHES = 10;

interface Target {
  name: string;
  host: string;
  /** skopeo's credentials flags for this registry. */
  creds: string[];
  /** `authorization` header for a plain HTTP client, for a repository's pull (or `pull,push`). */
  bearer(repo: string, actions?: string): Promise<string | undefined>;
  /** The server process, whose CPU time each run is charged. */
  pid: number | undefined;
}

export async function benchServing(ctx: RegistryBenchContext): Promise<void> {
  const { work, out, policy, fmt, median, quiet, peakRss, rssOf, serverPid, timeAsync } = ctx;
  const rounds = ctx.servingRounds;
  const source = `oci:${path.join(out, "oci")}:fixtures/big:1.0`;
  const smallSource = `oci:${path.join(out, "oci")}:fixtures/app:1.0`;
  const berthHost = new URL(ctx.url).host;
  const basic = Buffer.from("admin:bench-password").toString("base64");
  const berth: Target = {
    name: "Berth",
    host: berthHost,
    creds: ["--dest-creds", "admin:bench-password"],
    pid: ctx.serverPid,
    async bearer(repo, actions = "pull") {
      const q = new URLSearchParams({ service: "berth", scope: `repository:${repo}:${actions}` });
      const res = await fetch(`${ctx.url}/v2/token?${q.toString()}`, { headers: { authorization: `Basic ${basic}` } });
      return `Bearer ${((await res.json()) as { token: string }).token}`;
    },
  };
  const registries: ExtraRegistry[] = [];
  const distribution = async (): Promise<Target> => {
    const registry = await startRegistry(await mkdtemp(path.join(work, "distribution-")));
    registries.push(registry);
    return { name: "distribution", host: registry.host, creds: [], pid: registry.pid, bearer: () => Promise.resolve(undefined) };
  };
  const skopeo = (...args: string[]) => timeAsync("skopeo", ["--policy", policy, "copy", "-q", ...args]);
  /** CPU seconds each server spent per run, by what ran. */
  const serverCpu = new Map<string, number[]>();
  const charged = async (what: string, target: Target, run: () => Promise<number>): Promise<number> => {
    const before = cpuSeconds(target.pid);
    const seconds = await run();
    const key = `${what} ${target.name}`;
    serverCpu.set(key, [...(serverCpu.get(key) ?? []), cpuSeconds(target.pid) - before]);
    return seconds;
  };
  const push = (to: Target, ref: string) =>
    charged("push", to, () => skopeo("--dest-tls-verify=false", ...to.creds, source, `docker://${to.host}/${ref}`));
  const pull = async (from: Target, ref: string) => {
    const dest = path.join(work, "pulled");
    await rm(dest, { recursive: true, force: true });
    await quiet();
    const creds = from.creds.length ? ["--src-creds", from.creds[1]!] : [];
    return charged("pull", from, () => skopeo("--src-tls-verify=false", ...creds, `docker://${from.host}/${ref}`, `oci:${dest}:big`));
  };
  try {
    const baseRss = rssOf(serverPid);
    /** Berth's peak RSS by what it was doing, so a rise can be told to one part. */
    const peaks = new Map<string, number>();
    const watched = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
      const { result, peak: p } = await peakRss(serverPid, work);
      peaks.set(phase, Math.max(peaks.get(phase) ?? baseRss, p));
      return result;
    };
    const berthPush: number[] = [];
    const distPush: number[] = [];
    let served: Target | undefined;
    const { imageId, layers } = layoutImage(path.join(out, "oci"), "fixtures/big:1.0");
    const bearer = await berth.bearer("bench/big");
    for (let round = 0; round < rounds; round++) {
      // Pushes into an empty store: the image is removed under every name the other halves of the
      // bench gave it (it is the same image), and with it its blobs.
      await ctx.api.images.remove.mutate({ refs: [imageId], force: true }).catch(() => undefined);
      for (const layer of layers) {
        const head = await fetch(`${ctx.url}/v2/bench/big/blobs/${layer}`, { method: "HEAD", headers: { authorization: bearer! } });
        if (head.status !== 404)
          throw new Error(`Berth still holds layer ${layer} (HEAD answered ${head.status}): the push would measure nothing`);
      }
      const fresh = await distribution();
      const runs = [
        async () => {
          await quiet();
          berthPush.push(await watched("push", () => push(berth, "bench/big:1.0")));
          // Berth checks the big layer in a job once the push is answered: its CPU, apart.
          await watched("layer check", () => charged("check", berth, () => untilIdle(berth.pid).then(() => 0)));
        },
        async () => {
          await quiet();
          distPush.push(await push(fresh, "bench/big:1.0"));
        },
      ];
      for (const run of round % 2 ? runs.reverse() : runs) await run();
      served = fresh;
    }
    const pullFrom = (target: Target) =>
      target === berth ? watched("pull", () => pull(target, "bench/big:1.0")) : pull(target, "bench/big:1.0");
    // One untimed pull from each first, so neither side's first timed pull is the first after the
    // pushes. (The first timed round was still often the slowest, for either server.)
    for (const target of [berth, served!]) await pullFrom(target);
    serverCpu.delete("pull Berth");
    serverCpu.delete("pull distribution");
    const pulled = await inTurns(rounds, [berth, served!], pullFrom);
    // The servers alone: the biggest layer fetched and uploaded by curl (one stream, no client-side
    // hashing), so the figures above can be told apart from the client's own limits.
    const layerPath = path.join(out, "oci/blobs", ...layers.at(-1)!.split(":"));
    const layerDigest = layers.at(-1)!;
    const targets = [berth, served!];
    const curlGet = await inTurns(rounds, targets, async (target) => {
      await quiet();
      const auth = await target.bearer("bench/big");
      return timeAsync("curl", [
        "-sSf",
        ...(auth ? ["-H", `authorization: ${auth}`] : []),
        "-o",
        "/dev/null",
        `http://${target.host}/v2/bench/big/blobs/${layerDigest}`,
      ]);
    });
    const curlPut = await inTurns(rounds, targets, async (target) => {
      await quiet();
      const authorization = await target.bearer("bench/upload", "pull,push");
      return curlUpload(timeAsync, { host: target.host, repository: "bench/upload", file: layerPath, digest: layerDigest, authorization });
    });
    const bytes = imageBytes(`${served!.host}/bench/big:1.0`);
    const concurrent = async (target: Target) => {
      await quiet();
      const urls = await blobUrls(target, "bench/big");
      const authorization = await target.bearer("bench/big");
      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENT }, () => curlAll(urls, authorization)));
      return (CONCURRENT * bytes) / MiB / ((performance.now() - started) / 1000);
    };
    const berthRate = await watched(`${CONCURRENT} concurrent`, () => concurrent(berth));
    const distRate = await concurrent(served!);
    // A small image, as CI pushes many: each time to a new repository, so each push asks about
    // every blob, and finds it elsewhere in the store (mounted) after the first.
    let smallRepo = 0;
    const smallPush = await inTurns(SMALL_PUSHES, targets, (target) =>
      skopeo("--dest-tls-verify=false", ...target.creds, smallSource, `docker://${target.host}/bench/small-${smallRepo++}:1.0`),
    );

    const mbps = (s: number) => fmt(bytes / MiB / s, 0);
    const runs = (xs: number[]) => `[${xs.map((x) => fmt(x, 2)).join(", ")}]`;
    const line = (what: string, b: number[], d: number[]) => {
      const [bm, dm] = [median(b), median(d)];
      return `${what}: Berth ${fmt(bm, 2)} s (${mbps(bm)} MB/s) | distribution ${fmt(dm, 2)} s (${mbps(dm)} MB/s) | ratio ${fmt(dm / bm, 2)} (target ≥ 1.0); runs Berth ${runs(b)} distribution ${runs(d)}`;
    };
    console.log(
      `\n## Berth as a registry (fixtures/big:1.0, ${fmt(bytes / MiB, 0)} MiB of blobs; skopeo against Berth's /v2/ and against the CNCF registry, both on loopback; median of ${rounds} runs each, taking turns at going first)`,
    );
    console.log(line("skopeo push (`skopeo copy oci:… docker://…`, empty store)", berthPush, distPush));
    console.log(line("skopeo pull (`skopeo copy docker://… oci:…`)", pulled.get("Berth")!, pulled.get("distribution")!));
    const cpu = (what: string) =>
      `${what}: Berth ${fmt(median(serverCpu.get(`${what} Berth`) ?? [0]), 2)} s, distribution ${fmt(median(serverCpu.get(`${what} distribution`) ?? [0]), 2)} s`;
    const checked = fmt(median(serverCpu.get("check Berth") ?? [0]), 2);
    console.log(
      `server CPU per skopeo run (user + system, median): ${cpu("push")} (and Berth ${checked} s after it, checking the layer) | ${cpu("pull")}`,
    );
    const layerMb = statSync(layerPath).size / MiB;
    const alone = (what: string, m: Map<string, number[]>) => {
      const [b, d] = [median(m.get("Berth")!), median(m.get("distribution")!)];
      return `${what}: Berth ${fmt(b, 2)} s (${fmt(layerMb / b, 0)} MB/s) | distribution ${fmt(d, 2)} s (${fmt(layerMb / d, 0)} MB/s) | ratio ${fmt(d / b, 2)}`;
    };
    console.log(alone(`the servers alone, curl GET of the ${fmt(layerMb, 0)} MiB layer`, curlGet));
    console.log(
      alone(`the servers alone, curl upload of the ${fmt(layerMb, 0)} MiB layer (POST, then PUT ?digest= with the body)`, curlPut),
    );
    const [smallBerth, smallDist] = [median(smallPush.get("Berth")!), median(smallPush.get("distribution")!)];
    console.log(
      `skopeo push of a small image (fixtures/app:1.0, ${fmt(layoutImage(path.join(out, "oci"), "fixtures/app:1.0").bytes / MiB, 1)} MiB, to a new repository each time; median of ${SMALL_PUSHES}): Berth ${fmt(smallBerth * 1000, 0)} ms | distribution ${fmt(smallDist * 1000, 0)} ms | ratio ${fmt(smallDist / smallBerth, 2)}`,
    );
    console.log(
      `${CONCURRENT} concurrent pulls by curl (manifest, config, layers to /dev/null): Berth ${fmt(berthRate, 0)} MB/s | distribution ${fmt(distRate, 0)} MB/s | ratio ${fmt(berthRate / distRate, 2)}`,
    );
    const peak = Math.max(baseRss, ...peaks.values());
    const byPhase = [...peaks].map(([phase, p]) => `${phase} ${fmt((p - baseRss) / MiB, 0)}`).join(", ");
    console.log(
      `Berth RSS: baseline ${fmt(baseRss / MiB, 0)} MiB, peak growth ${fmt((peak - baseRss) / MiB, 0)} MiB (target ≤ 150 MiB); by phase, MiB: ${byPhase}`,
    );
  } finally {
    await ctx.api.images.remove.mutate({ refs: ["bench/big:1.0"], force: true }).catch(() => undefined);
    // Every small push was of the one image: removing it by ID untags all of them.
    const small = layoutImage(path.join(out, "oci"), "fixtures/app:1.0").imageId;
    await ctx.api.images.remove.mutate({ refs: [small], force: true }).catch(() => undefined);
    for (const r of registries) await r.stop();
  }
}

/** Seconds `run` takes on each target, by target name: `rounds` times each, taking turns at going first. */
async function inTurns(rounds: number, targets: Target[], run: (target: Target) => Promise<number>): Promise<Map<string, number[]>> {
  const seconds = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 ? [...targets].reverse() : targets) seconds.get(target.name)!.push(await run(target));
  }
  return seconds;
}

/** Manifest, config and layer URLs of `repo:1.0` on the target, in the order a client fetches them. */
async function blobUrls(target: Target, repo: string): Promise<string[]> {
  const base = `http://${target.host}/v2/${repo}`;
  const authorization = await target.bearer(repo);
  const res = await fetch(`${base}/manifests/1.0`, {
    headers: {
      accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
      ...(authorization ? { authorization } : {}),
    },
  });
  if (!res.ok) throw new Error(`${target.name}: manifest of ${repo}:1.0 answered ${res.status}`);
  const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  return [`${base}/manifests/1.0`, ...[manifest.config, ...manifest.layers].map((d) => `${base}/blobs/${d.digest}`)];
}

/** One pull as curl makes it: every URL in turn on one connection, bodies discarded. */
function curlAll(urls: string[], authorization: string | undefined): Promise<void> {
  const args = ["-sSf", "-H", "accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"];
  if (authorization) args.push("-H", `authorization: ${authorization}`);
  for (const url of urls) args.push("-o", "/dev/null", url);
  return new Promise((resolve, reject) => {
    const child = spawn("curl", args, { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`curl exited with ${code}`))));
  });
}

/** The image ID (config digest) and layer digests of `ref` in an OCI layout. */
function layoutImage(layout: string, ref: string): { imageId: string; layers: string[]; bytes: number } {
  const blob = (digest: string) => JSON.parse(readFileSync(path.join(layout, "blobs", ...digest.split(":")), "utf8")) as unknown;
  const top = JSON.parse(readFileSync(path.join(layout, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = top.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref);
  if (!entry) throw new Error(`${ref} is not in ${layout}`);
  const manifest = blob(entry.digest) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
  const bytes = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  return { imageId: manifest.config.digest, layers: manifest.layers.map((l) => l.digest), bytes };
}
