/**
 * Big gzip layers pushed through /v2/ are checked after the push is answered, by a `layer-check`
 * job: the push is quick, and Berth still learns (and checks) what each layer uncompresses to.
 * Here every gzip layer counts as big (`layerCheckInlineBytes = 0`), except where said.
 */
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushOneLayerImage } from "@berth/fixtures/v2-push";
import { requeueLayerChecks } from "../src/services/layer-check";
import { wakeJobRunners } from "../src/services/job-runner";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, finishedJob } from "./client";

let server: TestServer;
let api: ReturnType<typeof apiClient>;
let apiToken: string;
let bearer: string;

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

async function v2(pathname: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${bearer}`);
  return fetch(`${server.url}${pathname}`, { ...init, headers });
}

async function putBlob(data: Buffer | string): Promise<string> {
  const digest = sha256(data);
  const res = await v2(`/v2/team/big/blobs/uploads/?digest=${digest}`, { method: "POST", body: data });
  expect(res.status).toBe(201);
  return digest;
}

/**
 * Pushes a one-layer image whose gzip layer holds `tar` (with `gzip` false: whose layer is `tar`
 * itself, still labelled gzip); its config claims `diffId`.
 */
const pushGzipImage = (tag: string, tar: Buffer, diffId = sha256(tar), gzip = true) =>
  pushOneLayerImage({ base: server.url, authorization: `Bearer ${bearer}`, repository: "team/big", tag, tar, diffId, gzip });

/** The layer-check job of a blob (newest first), once it has finished. */
async function checkJob(blob: string) {
  const job = await server.services.db.job.findFirst({
    where: { kind: "layer-check", input: { path: ["blob"], equals: blob } },
    orderBy: { createdAt: "desc" },
  });
  expect(job, `a layer-check job for ${blob}`).not.toBeNull();
  return finishedJob(api, job!.id);
}

const inspectSize = async (ref: string) => (await api.images.inspect.query({ refs: [ref] })).images[0]!.Size;

beforeAll(async () => {
  server = await bootTestServer();
  server.services.layerCheckInlineBytes = 0;
  apiToken = await server.token();
  api = apiClient(server.url, apiToken);
  const res = await fetch(`${server.url}/v2/token?service=berth&scope=repository:team/big:pull,push`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.adminPassword}`).toString("base64")}` },
  });
  bearer = ((await res.json()) as { token: string }).token;
});
afterAll(async () => {
  await server?.close();
});

describe("layers checked after the push", () => {
  it("answers the push at once; the check job confirms the diff_id, learns the size, and is audited under the pusher", async () => {
    const tar = Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, "t")]);
    const pushed = await pushGzipImage("1.0", tar);
    expect(pushed.res.status).toBe(201);

    const job = await checkJob(pushed.layerDigest);
    expect(job).toMatchObject({ state: "succeeded", createdByName: "admin" });
    // Cancelled, it would leave the layers unchecked with nothing to check them again.
    await expect(api.jobs.cancel.mutate({ id: job.id })).rejects.toThrow(/^a layer check cannot be cancelled/);
    expect(job.result).toMatchObject({ diffId: sha256(tar), size: tar.length, confirmed: [pushed.imageId], mismatched: [] });
    // docker's Size is what the layers uncompress to, not what they weigh compressed.
    expect(await inspectSize("team/big:1.0")).toBe(tar.length);
    expect(await api.images.layerCheck.query({ ref: "team/big:1.0" })).toEqual({ problem: null, unchecked: 0 });
    const layers = await server.services.db.imageLayer.findMany({ where: { imageId: pushed.imageId } });
    expect(layers.map((l) => [l.checked, Number(l.size)])).toEqual([[true, tar.length]]);

    const { events } = await api.audit.list.query({ action: "image.layer-check", limit: 5 });
    expect(events[0]).toMatchObject({ result: "ok", actorName: "admin", interface: "registry" });
    expect(events[0]!.details).toMatchObject({ blob: pushed.layerDigest, diffId: sha256(tar), size: tar.length });
  });

  it("a check that failed is queued again when a server starts, as the pusher, and then settles the layer", async () => {
    const tar = randomBytes(30_000);
    const pushed = await pushGzipImage("retried", tar);
    expect((await checkJob(pushed.layerDigest)).state).toBe("succeeded");
    // As a check that failed on a read error leaves it: the job failed, the layer unchecked.
    await server.services.db.job.updateMany({
      where: { kind: "layer-check", input: { path: ["blob"], equals: pushed.layerDigest } },
      data: { state: "failed", error: "EIO: i/o error, read" },
    });
    await server.services.db.imageLayer.updateMany({ where: { blob: pushed.layerDigest }, data: { checked: false, size: 1 } });

    expect(await requeueLayerChecks(server.services.db)).toBe(1);
    // One is queued already: starting again (another replica) queues no second.
    expect(await requeueLayerChecks(server.services.db)).toBe(0);
    wakeJobRunners();
    const job = await checkJob(pushed.layerDigest);
    expect(job).toMatchObject({ state: "succeeded", createdByName: "admin" });
    const layers = await server.services.db.imageLayer.findMany({ where: { blob: pushed.layerDigest } });
    expect(layers.map((l) => [l.checked, Number(l.size)])).toEqual([[true, tar.length]]);
    expect(await requeueLayerChecks(server.services.db)).toBe(0);
  });

  it("while a server runs, a failed check is queued again once it ended a while ago, and not after five failures", async () => {
    const tar = randomBytes(30_000);
    const pushed = await pushGzipImage("retried-later", tar);
    expect((await checkJob(pushed.layerDigest)).state).toBe("succeeded");
    const { db } = server.services;
    const forBlob = { kind: "layer-check", input: { path: ["blob"], equals: pushed.layerDigest } };
    const failedAgo = async (minutes: number) => {
      await db.job.updateMany({
        where: forBlob,
        data: { state: "failed", error: "EIO: i/o error, read", finishedAt: new Date(Date.now() - minutes * 60_000) },
      });
      await db.imageLayer.updateMany({ where: { blob: pushed.layerDigest }, data: { checked: false } });
    };
    const retry = { endedMsAgo: 10 * 60_000, maxFailures: 5 };

    await failedAgo(1);
    expect(await requeueLayerChecks(db, retry)).toBe(0);
    await failedAgo(11);
    expect(await requeueLayerChecks(db, retry)).toBe(1);
    wakeJobRunners();
    expect((await checkJob(pushed.layerDigest)).state).toBe("succeeded");

    // Three more failed checks, five in all: no more tries until a server starts.
    const job = await db.job.findFirstOrThrow({ where: forBlob, select: { input: true, createdById: true, createdByName: true } });
    for (let i = 0; i < 3; i++) await db.job.create({ data: { ...job, input: job.input!, kind: "layer-check", state: "failed" } });
    await failedAgo(11);
    expect(await db.job.count({ where: { ...forBlob, state: "failed" } })).toBe(5);
    expect(await requeueLayerChecks(db, retry)).toBe(0);
    expect(await requeueLayerChecks(db)).toBe(1);
    wakeJobRunners();
    expect((await checkJob(pushed.layerDigest)).state).toBe("succeeded");
  });

  it("a layer that does not uncompress to its config's diff_id marks the image, audits the check as failed, and the image cannot be saved", async () => {
    const tar = randomBytes(200_000);
    const claimed = sha256("something else entirely");
    const pushed = await pushGzipImage("bad", tar, claimed);
    expect(pushed.res.status).toBe(201);

    const job = await checkJob(pushed.layerDigest);
    expect(job.result).toMatchObject({ diffId: sha256(tar), confirmed: [], mismatched: [pushed.imageId] });
    const image = await server.services.db.image.findUniqueOrThrow({ where: { id: pushed.imageId } });
    expect(image.problem).toBe(`layer 1 (${pushed.layerDigest}) uncompresses to ${sha256(tar)}, but the image's config lists ${claimed}`);
    // What the image page shows.
    expect(await api.images.layerCheck.query({ ref: "team/big:bad" })).toEqual({ problem: image.problem, unchecked: 0 });
    const { events } = await api.audit.list.query({ action: "image.layer-check", limit: 5 });
    expect(events[0]).toMatchObject({ result: "failed", actorName: "admin" });
    expect(events[0]!.error).toMatch(/uncompresses to sha256:/);

    const save = await fetch(`${server.url}/api/images/save?ref=team/big:bad`, { headers: { authorization: `Bearer ${apiToken}` } });
    expect(save.status).toBe(400);
    expect(((await save.json()) as { error: string }).error).toBe(`image ${pushed.imageId} cannot be saved: ${image.problem}`);
  });

  it("a layer that is not gzip at all is named as such", async () => {
    const notGzip = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), randomBytes(5000)]);
    const layerDigest = await putBlob(notGzip);
    const config = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256("x")] }, config: {} });
    const configDigest = await putBlob(config);
    const res = await v2("/v2/team/big/manifests/junk", {
      method: "PUT",
      body: JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: notGzip.length }],
      }),
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(res.status).toBe(201);
    await checkJob(layerDigest);
    const image = await server.services.db.image.findUniqueOrThrow({ where: { id: configDigest } });
    expect(image.problem).toMatch(/^layer 1 \(sha256:[a-f0-9]{64}\) is not valid gzip \(.+\), but the image's config lists sha256:/);
  });

  it("a save does not wait for the job: it checks the layer itself and writes its real size, and the check is recorded once", async () => {
    const tar = Buffer.alloc(600_000, "s");
    // The save races the job: whichever comes first checks the layer, the archive is right either
    // way, and the check is recorded once.
    const pushed = await pushGzipImage("saved", tar);
    expect(pushed.res.status).toBe(201);
    const res = await fetch(`${server.url}/api/images/save?ref=team/big:saved`, { headers: { authorization: `Bearer ${apiToken}` } });
    expect(res.status).toBe(200);
    const dir = await mkdtemp(path.join(tmpdir(), "berth-check-save-"));
    try {
      const file = path.join(dir, "saved.tar");
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      const manifest = JSON.parse(execFileSync("tar", ["-xOf", file, "manifest.json"], { encoding: "utf8" })) as { Layers: string[] }[];
      const layerTar = execFileSync("tar", ["-xOf", file, manifest[0]!.Layers[0]!]);
      expect(sha256(layerTar)).toBe(sha256(tar));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await checkJob(pushed.layerDigest);
    const { events } = await api.audit.list.query({ action: "image.layer-check", limit: 20 });
    expect(events.filter((e) => (e.details as { blob?: string }).blob === pushed.layerDigest)).toHaveLength(1);
  });
});

describe("small layers, checked before the push is answered", () => {
  beforeAll(() => {
    server.services.layerCheckInlineBytes = undefined;
  });
  afterAll(() => {
    server.services.layerCheckInlineBytes = 0;
  });

  /** The push was refused as MANIFEST_INVALID, and nothing of it was kept: its message. */
  async function refused(pushed: { res: Response; imageId: string }): Promise<string> {
    expect(pushed.res.status).toBe(400);
    const body = (await pushed.res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]!.code).toBe("MANIFEST_INVALID");
    expect(await server.services.db.image.findUnique({ where: { id: pushed.imageId } })).toBeNull();
    return body.errors[0]!.message;
  }

  it("a wrong diff_id is MANIFEST_INVALID", async () => {
    const tar = randomBytes(10_000);
    expect(await refused(await pushGzipImage("small", tar, sha256("not it")))).toBe(
      `layers[0] uncompresses to ${sha256(tar)}, but the config lists ${sha256("not it")}`,
    );
  });

  it("a layer labelled gzip that is a plain tar is held to its own digest: right is taken, wrong is MANIFEST_INVALID", async () => {
    // Two tars: a layer row of the first, once taken, would answer for the second push by itself.
    const tar = randomBytes(10_000);
    expect((await pushGzipImage("plain-right", tar, sha256(tar), false)).res.status).toBe(201);
    expect(await inspectSize("team/big:plain-right")).toBe(tar.length);
    const other = randomBytes(10_000);
    expect(await refused(await pushGzipImage("plain-wrong", other, sha256("not it"), false))).toBe(
      `layers[0] uncompresses to ${sha256(other)}, but the config lists ${sha256("not it")}`,
    );
  });

  it("a layer labelled gzip whose bytes are zstd is MANIFEST_INVALID, named as zstd", async () => {
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(5000)]);
    expect(await refused(await pushGzipImage("zstd", zstd, sha256(zstd), false))).toBe(
      "layers[0] (application/vnd.oci.image.layer.v1.tar+gzip) is zstd-compressed, which this version cannot decompress",
    );
  });
});
