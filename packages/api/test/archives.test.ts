import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, readdirSync, existsSync, statSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, uploadArchive } from "./client";

const fx = fixtures();
const archive = (name: string) => path.join(fx.archives, name);
const policy = path.join(fx.out, ".cache/policy.json");

function storedBlobs(server: TestServer): string[] {
  const dir = path.join(server.blobDir, "blobs/sha256");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

let server: TestServer;
let token: string;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  server = await bootTestServer();
  token = await server.token();
  api = apiClient(server.url, token);
});
afterAll(async () => server?.close());

describe("load, tag, remove, prune and save over the API", () => {
  it("refuses everything but health without credentials", async () => {
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    await expect(apiClient(server.url).images.list.query({ all: false, filters: {} })).rejects.toThrow(/sign in/);
    const res = await uploadArchive(server.url, "berth_not-a-token", createReadStream(archive("base-1.0.tar")) as never);
    expect(res.status).toBe(401);
  });

  it("loads a docker save archive and prints docker's lines", async () => {
    const res = await uploadArchive(server.url, token, Readable.toWeb(createReadStream(archive("all.tar"))) as never, "all.tar");
    expect(res.status).toBe(200);
    expect(res.body.lines).toEqual(
      expect.arrayContaining(["Loaded image: fixtures/base:1.0", "Loaded image: fixtures/app:1.0", "Loaded image: fixtures/app:2.0"]),
    );
    const rows = await api.images.list.query({ all: false, filters: {} });
    const byRef = new Map(rows.map((r) => [`${r.repository}:${r.tag}`, r]));
    expect(byRef.get("fixtures/app:1.0")?.id.toString()).toBe(fx.image("fixtures/app:1.0").configDigest);
    // The base layer is shared by all three images and stored once.
    const layerBlobs = new Set(
      ["fixtures/base:1.0", "fixtures/app:1.0", "fixtures/app:2.0"].flatMap((r) => fx.image(r).layers.map((l) => l.diffID)),
    );
    const onDisk = storedBlobs(server);
    for (const d of layerBlobs) expect(onDisk).toContain(d.slice(7));
    expect(onDisk.length).toBe(layerBlobs.size + 3);
  });

  it("moving a tag leaves the old image dangling, and prune removes it with its unique layer", async () => {
    const app1 = fx.image("fixtures/app:1.0");
    await api.images.tag.mutate({ source: "fixtures/app:2.0", target: "fixtures/app:1.0" });
    const rows = await api.images.list.query({ all: false, filters: { dangling: ["true"] } });
    expect(rows.map((r) => [r.repository, r.tag, r.id.toString()])).toEqual([["<none>", "<none>", app1.configDigest]]);

    const preview = await api.images.prune.mutate({ all: false, filters: {}, dryRun: true });
    expect(preview.deleted.map(String)).toEqual([app1.configDigest]);
    expect(storedBlobs(server)).toContain(app1.configDigest.slice(7));

    const pruned = await api.images.prune.mutate({ all: false, filters: {}, dryRun: false });
    expect(pruned.deleted.map(String)).toEqual([app1.configDigest]);
    expect(pruned.spaceReclaimed).toBeGreaterThan(0);
    const onDisk = storedBlobs(server);
    expect(onDisk).not.toContain(app1.configDigest.slice(7));
    expect(onDisk).not.toContain(app1.layers[1]!.diffID.slice(7));
    expect(onDisk).toContain(app1.layers[0]!.diffID.slice(7)); // shared base layer stays
  });

  it("rmi untags first, refuses an ID tagged in several repositories unless forced", async () => {
    const app2 = fx.image("fixtures/app:2.0").configDigest;
    await api.images.tag.mutate({ source: "fixtures/app:2.0", target: "team/app:stable" });
    const refused = await api.images.remove.mutate({ refs: [app2.slice(7, 19)], force: false });
    expect(refused.results[0]?.error).toMatch(/must be forced/);
    const untag = await api.images.remove.mutate({ refs: ["team/app:stable"], force: false });
    expect(untag.results[0]?.items).toEqual([{ untagged: "team/app:stable" }]);
    expect((await api.images.inspect.query({ refs: ["fixtures/app:2.0"] })).images[0]?.RepoTags).toEqual([
      "fixtures/app:1.0",
      "fixtures/app:2.0",
    ]);
  });

  it("saves an archive that skopeo reads, keeping the config digest and diff_ids", async () => {
    const res = await fetch(`${server.url}/api/images/save?ref=fixtures/base:1.0`, {
      headers: { authorization: `Bearer ${token}`, "x-berth-client": "cli" },
    });
    expect(res.status).toBe(200);
    const dir = await mkdtemp(path.join(tmpdir(), "berth-save-"));
    const file = path.join(dir, "base.tar");
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const base = fx.image("fixtures/base:1.0");
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", "--config", `docker-archive:${file}`], { encoding: "utf8" })) as {
      rootfs: { diff_ids: string[] };
    };
    expect(inspected.rootfs.diff_ids).toEqual(base.layers.map((l) => l.diffID));
    // The archive names the config by the image ID, and the config bytes hash to it.
    const manifest = JSON.parse(execFileSync("tar", ["-xOf", file, "manifest.json"], { encoding: "utf8" })) as {
      Config: string;
      RepoTags: string[];
    }[];
    expect(manifest[0]?.RepoTags).toEqual(["fixtures/base:1.0"]);
    expect(manifest[0]?.Config).toBe(`blobs/sha256/${base.configDigest.slice(7)}`);
    const config = execFileSync("tar", ["-xOf", file, manifest[0]!.Config]);
    expect(`sha256:${createHash("sha256").update(config).digest("hex")}`).toBe(base.configDigest);
    // skopeo can copy it on to an OCI layout (it re-serialises the config, so compare content).
    execFileSync("skopeo", ["--policy", policy, "copy", "-q", `docker-archive:${file}`, `oci:${dir}/oci:x`]);
    const index = JSON.parse(readFileSync(path.join(dir, "oci/index.json"), "utf8")) as { manifests: { digest: string }[] };
    const ociManifest = JSON.parse(readFileSync(path.join(dir, "oci/blobs/sha256", index.manifests[0]!.digest.slice(7)), "utf8")) as {
      config: { digest: string };
    };
    const ociConfig = JSON.parse(readFileSync(path.join(dir, "oci/blobs/sha256", ociManifest.config.digest.slice(7)), "utf8")) as {
      rootfs: unknown;
      config: unknown;
    };
    const original = JSON.parse(config.toString()) as { rootfs: unknown; config: unknown };
    expect(ociConfig.rootfs).toEqual(original.rootfs);
    expect(ociConfig.config).toEqual(original.config);
  });

  it("save by repository name writes every tag of it, like docker save", async () => {
    const res = await fetch(
      `${server.url}/api/images/save?ref=fixtures/app&ref=${fx.image("fixtures/base:1.0").configDigest.slice(7, 19)}`,
      {
        headers: { authorization: `Bearer ${token}`, "x-berth-client": "cli" },
      },
    );
    expect(res.status).toBe(200);
    const dir = await mkdtemp(path.join(tmpdir(), "berth-save-"));
    const file = path.join(dir, "app.tar");
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const manifest = JSON.parse(execFileSync("tar", ["-xOf", file, "manifest.json"], { encoding: "utf8" })) as {
      RepoTags: string[] | null;
    }[];
    expect(manifest.map((m) => m.RepoTags ?? [])).toEqual([["fixtures/app:1.0", "fixtures/app:2.0"], []]);
    const missing = await fetch(`${server.url}/api/images/save?ref=fixtures/nothing`, { headers: { authorization: `Bearer ${token}` } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe("No such image: fixtures/nothing:latest");
  });

  it("audits every change under the person's name, failures included", async () => {
    const bad = await uploadArchive(server.url, token, "this is not a tar archive at all", "junk.tar");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/invalid archive/);
    const { events } = await api.audit.list.query({ limit: 50 });
    const actions = events.map((e) => `${e.action}:${e.result}:${e.actorName}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        "image.load:ok:admin",
        "image.tag:ok:admin",
        "image.prune:ok:admin",
        "image.remove:ok:admin",
        "image.save:ok:admin",
        "image.load:failed:admin",
        "token.create:ok:admin",
      ]),
    );
    const moved = events.find((e) => e.action === "image.tag" && e.targets.some((t) => t.ref === "fixtures/app:1.0"));
    expect(String(moved?.targets[0]?.digestBefore)).toBe(fx.image("fixtures/app:1.0").configDigest);
    expect(String(moved?.targets[0]?.digestAfter)).toBe(fx.image("fixtures/app:2.0").configDigest);
    expect(events.every((e) => e.interface === "cli")).toBe(true);
    await expect(server.services.db.$executeRawUnsafe("UPDATE audit_events SET actor_name = 'mallory'")).rejects.toThrow(/append-only/);
  });

  it("keeps nothing when the client cuts an upload off half-way", async () => {
    const before = storedBlobs(server);
    const file = archive("big-1.0.tar");
    const half = Math.floor(statSync(file).size / 2);
    await new Promise<void>((resolve) => {
      const req = http.request(`${server.url}/api/images/load?source=cut.tar`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-length": String(statSync(file).size) },
      });
      req.on("error", () => resolve());
      const stream = createReadStream(file, { end: half });
      stream.pipe(req, { end: false });
      stream.on("end", () =>
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200),
      );
    });
    // The server notices the cut connection, records the failure and cleans up; give it a moment.
    const cleanedUp = async () => {
      const { events } = await api.audit.list.query({ action: "image.load", limit: 1 });
      const recorded = (events[0]?.details as { source?: string } | undefined)?.source === "cut.tar";
      return recorded && JSON.stringify(storedBlobs(server)) === JSON.stringify(before);
    };
    for (let i = 0; i < 100 && !(await cleanedUp()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(storedBlobs(server)).toEqual(before);
    expect(readdirSync(path.join(server.blobDir, "ingest"))).toEqual([]);
    const { events } = await api.audit.list.query({ action: "image.load", limit: 5 });
    expect(events[0]?.result).toBe("failed");
  });
});
