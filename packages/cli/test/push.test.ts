import { describe, expect, it, vi } from "vitest";
import type { PullJob } from "../src/api";
import { pushPrinter } from "../src/commands/push";
import { fakeApi, runCli } from "./helpers";

const REF = "127.0.0.1:5000/team/app:1.0";
const DIGEST = `sha256:${"d4".repeat(32)}`;
const L1 = "3c1f9e2a4b5d";
const L2 = "9a8b7c6d5e4f";
const job = (over: Partial<PullJob>): PullJob => ({ id: "job-1", state: "running", lines: [], layers: [], error: null, ...over });
const LEAD = "The push refers to repository [127.0.0.1:5000/team/app]";

describe("push", () => {
  it("queues a push job, follows it, and passes -a on", async () => {
    const snapshots = [
      job({
        lines: [LEAD],
        layers: [
          { id: L1, status: "Preparing" },
          { id: L2, status: "Preparing" },
        ],
      }),
      job({
        lines: [LEAD],
        layers: [
          { id: L1, status: "Pushing", current: 10, total: 100 },
          { id: L2, status: "Layer already exists" },
        ],
      }),
      job({
        state: "succeeded",
        lines: [LEAD, `1.0: digest: ${DIGEST} size: 528`],
        layers: [
          { id: L1, status: "Pushed" },
          { id: L2, status: "Layer already exists" },
        ],
      }),
    ];
    let i = 0;
    const getJob = vi.fn(() => Promise.resolve(snapshots[Math.min(i++, snapshots.length - 1)]!));
    const pushImage = vi.fn().mockResolvedValue({ id: "job-1" });
    const r = await runCli(["push", "--all-tags", "127.0.0.1:5000/team/app"], { api: fakeApi({ pushImage, getJob }) });
    expect(r.code).toBe(0);
    expect(pushImage).toHaveBeenCalledWith({ ref: "127.0.0.1:5000/team/app", allTags: true });
    expect(r.stdout).toBe(
      [
        LEAD,
        `${L1}: Preparing`,
        `${L2}: Preparing`,
        `${L1}: Pushing`,
        `${L2}: Layer already exists`,
        `${L1}: Pushed`,
        `1.0: digest: ${DIGEST} size: 528`,
        "",
      ].join("\n"),
    );
  });

  it("Ctrl-C cancels the push job and exits 130; a failed job prints its error once", async () => {
    let interrupt: (() => void) | undefined;
    const cancelJob = vi.fn().mockResolvedValue(undefined);
    const getJob = vi.fn(() => {
      interrupt?.();
      return Promise.resolve(job({ lines: [LEAD] }));
    });
    const r = await runCli(["push", REF], {
      api: fakeApi({ pushImage: vi.fn().mockResolvedValue({ id: "job-1" }), getJob, cancelJob }),
      onInterrupt: (listener) => (interrupt = listener),
    });
    expect(r.code).toBe(130);
    expect(cancelJob).toHaveBeenCalledWith("job-1");

    const failed = vi.fn(() =>
      Promise.resolve(job({ state: "failed", lines: [LEAD, "Error: unauthorized"], error: "unauthorized: authentication required" })),
    );
    const f = await runCli(["image", "push", REF], {
      api: fakeApi({ pushImage: vi.fn().mockResolvedValue({ id: "job-1" }), getJob: failed }),
    });
    expect(f.code).toBe(1);
    expect(f.stdout).toBe(`${LEAD}\n`);
    expect(f.stderr).toBe("Error response from daemon: unauthorized: authentication required\n");
  });
});

describe("pushPrinter", () => {
  it("prints each tag's digest line after the layer changes that came with it", () => {
    const print = pushPrinter();
    expect(print({ lines: [LEAD], layers: [] })).toEqual([LEAD]);
    expect(print({ lines: [LEAD, `1.0: digest: ${DIGEST} size: 1`], layers: [{ id: L1, status: "Pushed" }] })).toEqual([
      `${L1}: Pushed`,
      `1.0: digest: ${DIGEST} size: 1`,
    ]);
    expect(print({ lines: [LEAD, `1.0: digest: ${DIGEST} size: 1`], layers: [{ id: L1, status: "Pushed" }] })).toEqual([]);
  });
});
