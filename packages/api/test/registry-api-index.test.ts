/**
 * Multi-platform images pushed to Berth's /v2/: `skopeo copy --all` and `skopeo sync --all` push
 * each platform's manifest, then the index; Berth keeps the index byte for byte, serves it for
 * the tag, and keeps every image it lists while it is tagged.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { startUpstream, type Upstream } from "../../engine/test/registry-helpers";
import { bootTestServer, type TestServer } from "../src/testing";
import { skopeo } from "./skopeo";
import { apiClient } from "./client";

const fx = fixtures();
const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

let server: TestServer;
let upstream: Upstream;
let host: string;
let dir: string;
let api: ReturnType<typeof apiClient>;

const creds = () => ["--creds", `admin:${server.adminPassword}`, "--tls-verify=false"];
const destCreds = () => ["--dest-creds", `admin:${server.adminPassword}`, "--dest-tls-verify=false"];
const rawManifest = async (ref: string) => Buffer.from(await skopeo("inspect", "--raw", ...creds(), `docker://${host}/${ref}`));

beforeAll(async () => {
  [server, upstream] = await Promise.all([bootTestServer(), startUpstream()]);
  host = new URL(server.url).host;
  api = apiClient(server.url, await server.token());
  dir = mkdtempSync(path.join(tmpdir(), "berth-registry-index-"));
});
afterAll(async () => {
  await server?.close();
  upstream?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("multi-platform images pushed to Berth", () => {
  const multi = () => fx.images.find((i) => i.ref === "fixtures/multi:1.0")!;
  const platform = (arch: string) => fx.images.find((i) => i.ref === `fixtures/multi:1.0-linux-${arch}`)!;

  it("keeps a pushed OCI index whole: the tag serves the same bytes and copies out with --all", async () => {
    await skopeo("copy", "--all", `oci:${fx.layout}:fixtures/multi:1.0`, `docker://${host}/team-a/multi:1.0`, ...destCreds());
    expect(sha256(await rawManifest("team-a/multi:1.0"))).toBe(multi().ociDigest);
    expect(sha256(await rawManifest(`team-a/multi@${multi().ociDigest}`))).toBe(multi().ociDigest);

    // The dashboard shows the tag on this server's platform image.
    const rows = await api.images.list.query();
    expect(rows.find((r) => r.repository === "team-a/multi" && r.tag === "1.0")?.id).toBe(platform("amd64").configDigest);

    const out = path.join(dir, "out");
    await skopeo(
      "copy",
      "--all",
      ...creds().map((a) => a.replace("--creds", "--src-creds").replace("--tls", "--src-tls")),
      `docker://${host}/team-a/multi:1.0`,
      `oci:${out}:multi`,
    );
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([multi().ociDigest]);

    const events = await server.services.db.auditEvent.findMany({
      where: { action: "image.push", targets: { array_contains: [{ ref: "team-a/multi:1.0" }] } },
    });
    expect(events.at(-1)).toMatchObject({ result: "ok", actorName: "admin" });
    expect(events.at(-1)!.details).toMatchObject({ indexDigest: multi().ociDigest, platforms: ["linux/amd64", "linux/arm64"] });
  });

  it("keeps every image the index lists while it is tagged; untagged, they are pruned", async () => {
    const arm = platform("arm64").configDigest!;
    await api.images.prune.mutate({ all: true, filters: {}, dryRun: false });
    expect((await api.images.list.query()).some((r) => r.id === arm)).toBe(true);

    const refused = await api.images.remove.mutate({ refs: [arm], force: true });
    expect(refused.results[0]!.error).toMatch(/part of a tagged multi-platform index/);

    await api.images.remove.mutate({ refs: ["team-a/multi:1.0"], force: false });
    await api.images.prune.mutate({ all: true, filters: {}, dryRun: false });
    const left = await api.images.list.query();
    expect(left.some((r) => r.id === arm || r.id === platform("amd64").configDigest)).toBe(false);
    await expect(rawManifest(`team-a/multi@${multi().ociDigest}`)).rejects.toThrow(/manifest unknown/i);
    // The index's own bytes and the platform manifests went with the images.
    const stored = (digest: string) => existsSync(path.join(server.blobDir, "blobs/sha256", digest.slice(7)));
    expect(stored(multi().ociDigest)).toBe(false);
    expect(stored(platform("arm64").ociDigest)).toBe(false);
  });

  it("refuses an index whose manifests were not pushed first, naming the missing one", async () => {
    const missing = sha256("not pushed");
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: missing,
          size: 10,
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    });
    const file = path.join(dir, "lone-index");
    writeFileSync(path.join(dir, "lone-index.json"), index);
    // skopeo cannot push a lone index: the API is spoken directly, with a token from /v2/token.
    const q = new URLSearchParams({ service: "berth", scope: "repository:team-a/lone:pull,push" });
    const basic = Buffer.from(`admin:${server.adminPassword}`).toString("base64");
    const { token } = (await (
      await fetch(`${server.url}/v2/token?${q.toString()}`, { headers: { authorization: `Basic ${basic}` } })
    ).json()) as {
      token: string;
    };
    const res = await fetch(`${server.url}/v2/team-a/lone/manifests/1.0`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/vnd.oci.image.index.v1+json" },
      body: index,
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]!.code).toBe("MANIFEST_BLOB_UNKNOWN");
    expect(body.errors[0]!.message).toContain(missing);
    expect(file).toBeTruthy();
    expect((await api.images.list.query()).some((r) => r.repository === "team-a/lone")).toBe(false);
  });

  it("skopeo sync --all copies every fixture repository from a CNCF registry, manifest list included, digests unchanged", async () => {
    const repos = [...new Set(upstream.images.map((i) => i.repo))];
    const yaml = `${upstream.host}:\n  tls-verify: false\n  images:\n${repos.map((r) => `    ${r}: []`).join("\n")}\n`;
    const file = path.join(dir, "sync.yaml");
    writeFileSync(file, yaml);
    await skopeo("sync", "--all", "--src", "yaml", "--dest", "docker", ...destCreds(), file, `${host}/mirror`);
    // skopeo sync names each destination by the source repository's last component.
    for (const image of upstream.images) {
      const synced = `mirror/${image.repo.split("/").at(-1)!}:${image.tag}`;
      expect(sha256(await rawManifest(synced)), image.ref).toBe(image.upstreamDigest);
    }
    const tags = JSON.parse(await skopeo("list-tags", ...creds(), `docker://${host}/mirror/app`)) as { Tags: string[] };
    const upstreamTags = JSON.parse(await skopeo("list-tags", "--tls-verify=false", `docker://${upstream.host}/fixtures/app`)) as {
      Tags: string[];
    };
    expect(tags.Tags.sort()).toEqual(upstreamTags.Tags.sort());
    // The OCI twin of each tag (`1.0-oci`) is the same image under another manifest, served as pushed.
    const [docker, oci] = await Promise.all([rawManifest("mirror/app:1.0"), rawManifest("mirror/app:1.0-oci")]);
    const configOf = (raw: Buffer) => (JSON.parse(raw.toString()) as { config: { digest: string } }).config.digest;
    expect(configOf(docker)).toBe(configOf(oci));
    expect(sha256(docker)).not.toBe(sha256(oci));
  });
});
