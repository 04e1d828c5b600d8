import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { claimNextJob, enqueueJob, requeueStaleJobs } from "@berth/db";
import { startProxy, startUpstream, type Upstream } from "../../engine/test/registry-helpers";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, finishedJob } from "./client";

const fx = fixtures();

let upstream: Upstream;
let server: TestServer;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  [upstream, server] = await Promise.all([startUpstream(), bootTestServer()]);
  api = apiClient(server.url, await server.token());
});
afterAll(async () => {
  await server?.close();
  upstream?.stop();
});

function storedBlobs(): string[] {
  const dir = path.join(server.blobDir, "blobs/sha256");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Polls the job until it ends (bounded). */
const finished = (id: string) => finishedJob(api, id, 200);

describe("pull as a server-side job", () => {
  it("pulls from a loopback registry, stores the image and tags it", async () => {
    const ref = `${upstream.host}/fixtures/app:1.0`;
    const { id } = await api.jobs.pull.mutate({ ref });
    const job = await finished(id);
    expect(job.error).toBeNull();
    expect(job.state).toBe("succeeded");
    expect(job.createdByName).toBe("admin");
    expect(job.progress.lines).toEqual(expect.arrayContaining([`Status: Downloaded newer image for ${ref}`]));
    expect(job.progress.lines.some((l) => /^Digest: sha256:[0-9a-f]{64}$/.test(l))).toBe(true);
    expect(job.progress.layers.length).toBeGreaterThan(0);
    for (const layer of job.progress.layers) expect(layer.status).toBe("Pull complete");

    const rows = await api.images.list.query({ all: false, filters: {} });
    const row = rows.find((r) => r.repository === `${upstream.host}/fixtures/app` && r.tag === "1.0");
    expect(row?.id.toString()).toBe(fx.image("fixtures/app:1.0").configDigest);

    const listed = await api.jobs.list.query({ limit: 10 });
    expect(listed[0]?.id).toBe(id);
  });

  it("says the image is up to date when pulled again", async () => {
    const ref = `${upstream.host}/fixtures/app:1.0`;
    const job = await finished((await api.jobs.pull.mutate({ ref })).id);
    expect(job.state).toBe("succeeded");
    expect(job.progress.lines.at(-1)).toBe(`Status: Image is up to date for ${ref}`);
    expect(job.progress.layers.every((l) => l.status === "Already exists")).toBe(true);
  });

  it("fails an unknown tag with the registry's error, audited as failed", async () => {
    const ref = `${upstream.host}/fixtures/app:no-such-tag`;
    const job = await finished((await api.jobs.pull.mutate({ ref })).id);
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(/manifest unknown/);
    const { events } = await api.audit.list.query({ action: "image.pull", limit: 10 });
    const failed = events.find((e) => e.result === "failed");
    expect(failed).toMatchObject({ actorName: "admin", interface: "cli" });
    expect(failed?.error).toMatch(/manifest unknown/);
    expect(failed?.targets[0]?.ref).toBe(ref);
  });

  it("audits the pull by the person who started it, with the endpoint", async () => {
    const { events } = await api.audit.list.query({ action: "image.pull", limit: 10 });
    const ok = events.filter((e) => e.result === "ok");
    expect(ok).toHaveLength(2);
    const first = ok.at(-1)!;
    expect(first).toMatchObject({ actorName: "admin", interface: "cli", result: "ok" });
    expect(first.details.endpoint).toBe(`http://${upstream.host}`);
    expect(typeof first.details.bytes).toBe("number");
    expect(typeof first.details.durationMs).toBe("number");
    expect(first.details.manifestDigest).toMatch(/^sha256:/);
    expect(first.targets).toEqual([
      { ref: `${upstream.host}/fixtures/app:1.0`, digestBefore: null, digestAfter: fx.image("fixtures/app:1.0").configDigest },
    ]);
  });

  it("refuses an invalid reference with docker's message, before queueing", async () => {
    await expect(api.jobs.pull.mutate({ ref: "Fixtures/App" })).rejects.toThrow(/invalid reference format/);
    await expect(api.jobs.pull.mutate({ ref: "fixtures/app", platform: "linux" })).rejects.toThrow(/os\/arch/);
  });

  it("cancels a running pull: aborted, audited as failed, its new blobs removed", async () => {
    // A proxy that holds every blob request: the pull stays running until cancelled.
    const held: ServerResponse[] = [];
    const proxy = await startProxy(upstream.host, {
      intercept(req, res) {
        if (!req.url?.includes("/blobs/")) return false;
        held.push(res);
        return true;
      },
    });
    try {
      const blobsBefore = storedBlobs();
      const ref = `${proxy.host}/fixtures/app:2.0`;
      const { id } = await api.jobs.pull.mutate({ ref });
      for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(held.length).toBeGreaterThan(0);
      expect((await api.jobs.get.query({ id })).state).toBe("running");
      expect((await api.jobs.cancel.mutate({ id })).state).toBe("cancelled");
      // Cancelled at once in the database; the runner then aborts and records its last progress.
      let job = await finished(id);
      for (let i = 0; i < 100 && job.progress.lines.at(-1) !== "Cancelled"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        job = await api.jobs.get.query({ id });
      }
      expect(job.state).toBe("cancelled");
      expect(job.progress.lines.at(-1)).toBe("Cancelled");
      const { events } = await api.audit.list.query({ action: "image.pull", limit: 1 });
      expect(events[0]).toMatchObject({ result: "failed", error: "pull cancelled" });
      expect(events[0]?.targets[0]?.ref).toBe(ref);
      // The manifest it stored is collected again: the store is as it was.
      for (let i = 0; i < 50 && storedBlobs().length !== blobsBefore.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(storedBlobs()).toEqual(blobsBefore);
      expect((await api.jobs.cancel.mutate({ id })).state).toBe("cancelled");
    } finally {
      for (const res of held) res.destroy();
      await proxy.close();
    }
  });

  it("queues again a job whose worker stopped heartbeating, and runs it", async () => {
    const { db } = server.services;
    // Claimed by a worker that then died: in one transaction, so no live runner sees it queued.
    const id = await db.$transaction(async (tx) => {
      const queued = await enqueueJob(tx, {
        kind: "pull",
        input: { ref: `${upstream.host}/fixtures/base:1.0`, interface: "cli", ip: null, userAgent: null },
        createdById: null,
        createdByName: "admin",
      });
      const claimed = await claimNextJob(tx, "dead-replica");
      expect(claimed?.id).toBe(queued.id);
      await tx.$executeRaw`UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = ${queued.id}::uuid`;
      return queued.id;
    });
    expect(await requeueStaleJobs(db, 60_000)).toContain(id);
    expect(await requeueStaleJobs(db, 60_000)).not.toContain(id);
    const job = await finished(id);
    expect(job.state).toBe("succeeded");
    expect(job.progress.lines.at(-1)).toBe(`Status: Downloaded newer image for ${upstream.host}/fixtures/base:1.0`);
  });
});
