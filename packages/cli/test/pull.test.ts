import { describe, expect, it, vi } from "vitest";
import type { JobLayer, PullJob } from "../src/api";
import { pulledReference, pullPrinter } from "../src/commands/pull";
import { DaemonError } from "../src/errors";
import { fakeApi, runCli } from "./helpers";

const REF = "127.0.0.1:5000/fixtures/app:1.0";
const DIGEST = `sha256:${"d4".repeat(32)}`;
const L1 = "3c1f9e2a4b5d";
const L2 = "9a8b7c6d5e4f";

const job = (over: Partial<PullJob>): PullJob => ({
  id: "job-1",
  state: "running",
  lines: [],
  layers: [],
  error: null,
  ...over,
});
const layers = (a: string, b: string, extra: Partial<JobLayer> = {}): JobLayer[] => [
  { id: L1, status: a, ...extra },
  { id: L2, status: b },
];

/** The snapshots a successful pull goes through, as `jobs.get` returns them. */
const success: PullJob[] = [
  job({ state: "queued" }),
  job({ lines: ["Pulling from fixtures/app"], layers: layers("Waiting", "Waiting") }),
  job({
    lines: ["Pulling from fixtures/app"],
    layers: layers("Downloading", "Waiting", { current: 10, total: 100 }),
  }),
  // Only the byte count moved: no new line.
  job({
    lines: ["Pulling from fixtures/app"],
    layers: layers("Downloading", "Already exists", { current: 90, total: 100 }),
  }),
  job({
    state: "succeeded",
    lines: ["Pulling from fixtures/app", `Digest: ${DIGEST}`, `Status: Downloaded newer image for ${REF}`],
    layers: layers("Pull complete", "Already exists"),
  }),
];

/** A `getJob` that answers with the snapshots in turn (the last one forever). */
function sequence(snapshots: PullJob[]) {
  let i = 0;
  return vi.fn(() => Promise.resolve(snapshots[Math.min(i++, snapshots.length - 1)]!));
}

describe("pull", () => {
  it("starts a job and prints docker's non-TTY progress, then the full reference", async () => {
    const pullImage = vi.fn().mockResolvedValue({ id: "job-1" });
    const getJob = sequence(success);
    const r = await runCli(["pull", REF], { api: fakeApi({ pullImage, getJob }) });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(pullImage).toHaveBeenCalledWith({ ref: REF });
    expect(getJob).toHaveBeenCalledTimes(success.length);
    expect(getJob).toHaveBeenCalledWith("job-1");
    expect(r.stdout).toBe(
      [
        "Pulling from fixtures/app",
        `${L1}: Waiting`,
        `${L2}: Waiting`,
        `${L1}: Downloading`,
        `${L2}: Already exists`,
        `${L1}: Pull complete`,
        `Digest: ${DIGEST}`,
        `Status: Downloaded newer image for ${REF}`,
        REF,
        "",
      ].join("\n"),
    );
  });

  it("-q prints only the reference; --platform is passed on; `image pull` is the same command", async () => {
    const pullImage = vi.fn().mockResolvedValue({ id: "job-1" });
    const r = await runCli(["image", "pull", "-q", "--platform", "linux/arm64/v8", "127.0.0.1:5000/fixtures/app"], {
      api: fakeApi({ pullImage, getJob: sequence(success) }),
    });
    expect(r.code).toBe(0);
    expect(pullImage).toHaveBeenCalledWith({
      ref: "127.0.0.1:5000/fixtures/app",
      platform: "linux/arm64/v8",
    });
    expect(r.stdout).toBe("127.0.0.1:5000/fixtures/app:latest\n");
  });

  it("a failed job prints the progress so far, then the error on stderr with exit 1", async () => {
    const getJob = sequence([
      job({ lines: ["Pulling from fixtures/app"], layers: layers("Downloading", "Waiting") }),
      job({
        state: "failed",
        // The server's closing line repeats the error: docker prints it once, on stderr.
        lines: ["Pulling from fixtures/app", "Error: unexpected EOF"],
        layers: layers("Downloading", "Waiting"),
        error: "unexpected EOF",
      }),
    ]);
    const r = await runCli(["pull", REF], {
      api: fakeApi({ pullImage: vi.fn().mockResolvedValue({ id: "job-1" }), getJob }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(["Pulling from fixtures/app", `${L1}: Downloading`, `${L2}: Waiting`, ""].join("\n"));
    expect(r.stderr).toBe("Error response from daemon: unexpected EOF\n");
  });

  it("a job cancelled elsewhere fails the same way; -q prints nothing to stdout", async () => {
    const getJob = sequence([job({ state: "cancelled", error: "cancelled by admin" })]);
    const r = await runCli(["pull", "-q", REF], {
      api: fakeApi({ pullImage: vi.fn().mockResolvedValue({ id: "job-1" }), getJob }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("Error response from daemon: cancelled by admin\n");
  });

  it("a rejected reference is the server's message, and no job is polled", async () => {
    const getJob = vi.fn();
    const pullImage = vi.fn().mockRejectedValue(new DaemonError("invalid reference format", "BAD_REQUEST"));
    const r = await runCli(["pull", "Bad//Ref"], { api: fakeApi({ pullImage, getJob }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error response from daemon: invalid reference format\n");
    expect(getJob).not.toHaveBeenCalled();
  });

  it("Ctrl-C cancels the job and exits 130", async () => {
    let interrupt: (() => void) | undefined;
    const cancelJob = vi.fn().mockResolvedValue(undefined);
    const getJob = vi.fn(() => {
      interrupt?.();
      return Promise.resolve(job({ lines: ["Pulling from fixtures/app"] }));
    });
    const r = await runCli(["pull", REF], {
      api: fakeApi({ pullImage: vi.fn().mockResolvedValue({ id: "job-1" }), getJob, cancelJob }),
      onInterrupt: (listener) => (interrupt = listener),
    });
    expect(r.code).toBe(130);
    expect(cancelJob).toHaveBeenCalledWith("job-1");
    expect(getJob).toHaveBeenCalledTimes(1);
    expect(r.stdout).toBe("Pulling from fixtures/app\n");
    expect(r.stderr).toBe("");
  });

  it("requires a reference", async () => {
    const r = await runCli(["pull"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("berth: 'berth pull' requires 1 argument");
  });
});

describe("pull output helpers", () => {
  it("prints leading lines first, then layer changes, and Digest/Status only once the job is finished", () => {
    const print = pullPrinter();
    const lines = ["Pulling from x", `Digest: ${DIGEST}`, "Status: Image is up to date for x:1"];
    expect(print({ state: "queued", lines: [], layers: [] })).toEqual([]);
    // The digest is known before the last layer is in: it waits.
    expect(print({ state: "running", lines: lines.slice(0, 2), layers: layers("Already exists", "Downloading") })).toEqual([
      "Pulling from x",
      `${L1}: Already exists`,
      `${L2}: Downloading`,
    ]);
    expect(print({ state: "succeeded", lines, layers: layers("Already exists", "Pull complete") })).toEqual([
      `${L2}: Pull complete`,
      `Digest: ${DIGEST}`,
      "Status: Image is up to date for x:1",
    ]);
    expect(print({ state: "succeeded", lines, layers: layers("Already exists", "Pull complete") })).toEqual([]);
  });

  it("normalises the reference the way docker prints it", () => {
    expect(pulledReference("redis")).toBe("docker.io/library/redis:latest");
    expect(pulledReference("127.0.0.1:5000/fixtures/app:1.0")).toBe("127.0.0.1:5000/fixtures/app:1.0");
    expect(pulledReference(`fixtures/app@${DIGEST}`)).toBe(`docker.io/fixtures/app@${DIGEST}`);
  });
});
