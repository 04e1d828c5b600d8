import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { htpasswdLine, startRegistry, type ExtraRegistry } from "../../engine/test/registry-helpers";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, finishedJob, uploadArchive } from "./client";

const fx = fixtures();

let server: TestServer;
let api: ReturnType<typeof apiClient>;
/** An empty CNCF registry to push to, and one that wants Basic credentials. */
let target: ExtraRegistry;
let locked: ExtraRegistry;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "berth-api-push-"));
  const htpasswd = path.join(dir, "htpasswd");
  writeFileSync(htpasswd, htpasswdLine("pusher", "s3cret-Pa55"));
  [server, target, locked] = await Promise.all([
    bootTestServer(),
    startRegistry(path.join(dir, "open"), ""),
    startRegistry(path.join(dir, "locked"), ["  htpasswd:", "    realm: berth-test", `    path: ${htpasswd}`].join("\n")),
  ]);
  const token = await server.token();
  api = apiClient(server.url, token);
  const loaded = await uploadArchive(server.url, token, readFileSync(path.join(fx.archives, "app-1.0.tar")), "app-1.0.tar");
  expect(loaded.status).toBe(200);
  await api.images.tag.mutate({ source: "fixtures/app:1.0", target: `${target.host}/team/app:1.0` });
  await api.images.tag.mutate({ source: "fixtures/app:1.0", target: `${locked.host}/team/app:1.0` });
});
afterAll(async () => {
  await server?.close();
  await target?.stop();
  await locked?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Polls the job until it ends (bounded). */
const finished = (id: string) => finishedJob(api, id);

function skopeoInspect(ref: string, ...flags: string[]): Record<string, unknown> {
  const policy = path.join(fx.out, ".cache/policy.json");
  const out = execFileSync("skopeo", ["--policy", policy, "inspect", "--tls-verify=false", ...flags, `docker://${ref}`], {
    encoding: "utf8",
  });
  return JSON.parse(out) as Record<string, unknown>;
}

describe("push as a server-side job", () => {
  it("pushes a loaded image to an empty registry: docker's progress, and skopeo sees the image", async () => {
    const ref = `${target.host}/team/app:1.0`;
    const { id } = await api.jobs.push.mutate({ ref });
    const job = await finished(id);
    expect(job.error).toBeNull();
    expect(job).toMatchObject({ state: "succeeded", kind: "push", ref, allTags: false, createdByName: "admin" });
    const result = job.result as { tags: { tag: string; manifestDigest: string; size: number }[]; bytes: number; layersPushed: number };
    expect(job.progress.lines).toEqual([
      `The push refers to repository [${target.host}/team/app]`,
      `1.0: digest: ${result.tags[0]!.manifestDigest} size: ${result.tags[0]!.size}`,
    ]);
    const expected = fx.image("fixtures/app:1.0");
    expect(job.progress.layers.map((l) => l.id).sort()).toEqual(expected.layers.map((l) => l.diffID.slice(7, 19)).sort());
    expect(job.progress.layers.every((l) => l.status === "Pushed")).toBe(true);
    expect(result.layersPushed).toBe(2);

    const inspect = skopeoInspect(ref) as { Digest: string };
    expect(inspect.Digest).toBe(result.tags[0]!.manifestDigest);
    const config = skopeoInspect(ref, "--config") as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(expected.layers.map((l) => l.diffID));
  });

  it("pushes again without uploading: every layer already exists", async () => {
    const job = await finished((await api.jobs.push.mutate({ ref: `${target.host}/team/app:1.0` })).id);
    expect(job.state).toBe("succeeded");
    expect(job.progress.layers.every((l) => l.status === "Layer already exists")).toBe(true);
    expect(job.result).toMatchObject({ bytes: 0, layersSkipped: 2, layersPushed: 0 });
  });

  it("audits each push with its manifest digest, endpoint, bytes and layer counts", async () => {
    const { events } = await api.audit.list.query({ action: "image.push", limit: 10 });
    expect(events).toHaveLength(2);
    const [second, first] = events as [(typeof events)[number], (typeof events)[number]];
    expect(first).toMatchObject({ actorName: "admin", interface: "cli", result: "ok" });
    expect(first.targets).toEqual([
      { ref: `${target.host}/team/app:1.0`, digestBefore: null, digestAfter: fx.image("fixtures/app:1.0").configDigest },
    ]);
    expect(first.details).toMatchObject({ endpoint: `http://${target.host}`, layersPushed: 2, layersSkipped: 0, layersMounted: 0 });
    expect(first.details.manifestDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(first.details.bytes).toBeGreaterThan(0);
    expect(typeof first.details.durationMs).toBe("number");
    expect(second.details).toMatchObject({ bytes: 0, layersSkipped: 2, manifestDigest: first.details.manifestDigest });
  });

  it("refuses a bad reference and an image that is not here, with docker's messages, before queueing", async () => {
    const before = (await api.jobs.list.query({ limit: 100 })).length;
    await expect(api.jobs.push.mutate({ ref: "Team/App" })).rejects.toThrow(/invalid reference format/);
    await expect(api.jobs.push.mutate({ ref: `${target.host}/team/nope:1.0` })).rejects.toThrow(
      `An image does not exist locally with the tag: ${target.host}/team/nope`,
    );
    await expect(api.jobs.push.mutate({ ref: `${target.host}/team/app:1.0`, allTags: true })).rejects.toThrow(
      "tag can't be used with --all-tags/-a",
    );
    await expect(api.jobs.push.mutate({ ref: "" })).rejects.toThrow(/an image reference is required/);
    expect((await api.jobs.list.query({ limit: 100 })).length).toBe(before);
  });

  it("uses the team's credentials for the registry: refused (and audited) without, pushed after registries.login", async () => {
    const ref = `${locked.host}/team/app:1.0`;
    const denied = await finished((await api.jobs.push.mutate({ ref })).id);
    expect(denied.state).toBe("failed");
    expect(denied.error).toMatch(/unauthorized: authentication required .*no credentials given/);
    const { events } = await api.audit.list.query({ action: "image.push", limit: 1 });
    expect(events[0]).toMatchObject({ result: "failed", targets: [{ ref }] });
    expect(events[0]!.error).toMatch(/unauthorized/);

    await api.registries.login.mutate({ domain: locked.host, username: "pusher", password: "s3cret-Pa55" });
    const job = await finished((await api.jobs.push.mutate({ ref: `${locked.host}/team/app`, allTags: true })).id);
    expect(job.error).toBeNull();
    expect(job.state).toBe("succeeded");
    expect(job.allTags).toBe(true);
    expect((job.result as { tags: { tag: string }[] }).tags.map((t) => t.tag)).toEqual(["1.0"]);
  });
});
