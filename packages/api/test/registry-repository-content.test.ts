/**
 * Blobs are stored once for the whole store, but each repository serves only what it holds: what
 * was pushed or mounted there and what its tags name. Otherwise a caller who may pull one
 * repository (or anyone, through a public one) reads another's layers by digest, and a push
 * adopts layers it never had.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Digest } from "@berth/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushOneLayerImage, type OneLayerPush } from "@berth/fixtures/v2-push";
import { cleanAbandonedUploads } from "../src/registry-api/uploads";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient } from "./client";

let server: TestServer;
let secret: OneLayerPush;
let manifestDigest: string;
let manifestBytes: string;

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** A token for these scopes (`repository:team-a/app:pull,push`), as admin or (without `basic`) anonymously. */
async function token(scopes: string[], basic = true): Promise<string> {
  const query = new URLSearchParams([["service", "berth"], ...scopes.map((s): [string, string] => ["scope", s])]);
  const headers: Record<string, string> = basic
    ? { authorization: `Basic ${Buffer.from(`admin:${server.adminPassword}`).toString("base64")}` }
    : {};
  const res = await fetch(`${server.url}/v2/token?${query.toString()}`, { headers });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** A /v2/ request with a token for `scopes` (by default everything on the repository in the path). */
async function v2(pathname: string, init: RequestInit & { scopes?: string[]; anonymous?: true } = {}): Promise<Response> {
  const repository = /^\/v2\/(.+?)\/(blobs|manifests)\//.exec(pathname)![1]!;
  const scopes = init.scopes ?? [`repository:${repository}:pull,push,delete`];
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${await token(scopes, !init.anonymous)}`);
  return fetch(`${server.url}${pathname}`, { ...init, headers });
}

/** A one-layer image of `size` random bytes pushed to `repository` as admin, tagged 1.0. */
async function pushImage(repository: string, size: number): Promise<OneLayerPush> {
  const authorization = `Bearer ${await token([`repository:${repository}:pull,push,delete`])}`;
  const pushed = await pushOneLayerImage({ base: server.url, authorization, repository, tag: "1.0", tar: randomBytes(size) });
  expect(pushed.res.status).toBe(201);
  return pushed;
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
}

beforeAll(async () => {
  server = await bootTestServer();
  secret = await pushImage("team-a/secret", 20_000);
  manifestDigest = secret.res.headers.get("docker-content-digest")!;
  manifestBytes = await (await v2(`/v2/team-a/secret/manifests/${manifestDigest}`)).text();
  expect(sha256(manifestBytes)).toBe(manifestDigest);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("content a repository holds", () => {
  it("a repository serves its own blobs and manifests, and not another repository's by digest", async () => {
    for (const method of ["GET", "HEAD"]) {
      expect((await v2(`/v2/team-a/secret/blobs/${secret.layerDigest}`, { method })).status).toBe(200);
      expect((await v2(`/v2/team-a/secret/blobs/${secret.imageId}`, { method })).status).toBe(200);
      expect((await v2(`/v2/team-b/other/blobs/${secret.layerDigest}`, { method })).status).toBe(404);
      expect((await v2(`/v2/team-b/other/blobs/${secret.imageId}`, { method })).status).toBe(404);
      expect((await v2(`/v2/team-b/other/manifests/${manifestDigest}`, { method })).status).toBe(404);
    }
    expect(await errorOf(await v2(`/v2/team-b/other/blobs/${secret.layerDigest}`))).toEqual({
      code: "BLOB_UNKNOWN",
      message: `blob unknown: ${secret.layerDigest}`,
      detail: { digest: secret.layerDigest },
    });
    expect((await errorOf(await v2(`/v2/team-b/other/manifests/${manifestDigest}`))).code).toBe("MANIFEST_UNKNOWN");
  });

  it("a manifest cannot name blobs its repository was never pushed, and an upload without bytes does not claim one", async () => {
    const put = await v2("/v2/team-b/other/manifests/stolen", {
      method: "PUT",
      body: manifestBytes,
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(put.status).toBe(404);
    expect(await errorOf(put)).toMatchObject({
      code: "MANIFEST_BLOB_UNKNOWN",
      message: `the manifest's config ${secret.imageId} was not uploaded to team-b/other`,
    });
    expect(await server.services.db.tag.count({ where: { repository: "docker.io/team-b/other" } })).toBe(0);

    // A session finished with the digest of a blob the store holds, but none of its bytes.
    const started = await v2("/v2/team-b/other/blobs/uploads/", { method: "POST" });
    expect(started.status).toBe(202);
    const finish = await v2(`${started.headers.get("location")!}?digest=${secret.layerDigest}`, { method: "PUT" });
    expect(finish.status).toBe(400);
    expect((await errorOf(finish)).code).toBe("DIGEST_INVALID");
    expect((await v2(`/v2/team-b/other/blobs/${secret.layerDigest}`, { method: "HEAD" })).status).toBe(404);
  });

  it("a blob mounted from a repository that holds it, or uploaded again, is held; a mount from one that does not is an upload", async () => {
    const scopes = ["repository:team-b/mounted:pull,push", "repository:team-a/secret:pull"];
    const notThere = await v2(`/v2/team-b/mounted/blobs/uploads/?mount=${secret.layerDigest}&from=team-c/empty`, {
      method: "POST",
      scopes: ["repository:team-b/mounted:pull,push", "repository:team-c/empty:pull"],
    });
    expect(notThere.status).toBe(202);
    for (const digest of [secret.layerDigest, secret.imageId]) {
      const mount = await v2(`/v2/team-b/mounted/blobs/uploads/?mount=${digest}&from=team-a/secret`, { method: "POST", scopes });
      expect(mount.status).toBe(201);
    }
    const put = await v2("/v2/team-b/mounted/manifests/1.0", {
      method: "PUT",
      body: manifestBytes,
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(put.status).toBe(201);
    expect((await v2(`/v2/team-b/mounted/blobs/${secret.layerDigest}`)).status).toBe(200);

    // Pushing the bytes themselves: the store keeps one copy, the repository holds it.
    const config = await (await v2(`/v2/team-a/secret/blobs/${secret.imageId}`)).text();
    const upload = await v2(`/v2/team-d/again/blobs/uploads/?digest=${secret.imageId}`, { method: "POST", body: config });
    expect(upload.status).toBe(201);
    expect(await (await v2(`/v2/team-d/again/blobs/${secret.imageId}`)).text()).toBe(config);
  });

  it("an index may list only manifests pushed to its own repository", async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: manifestDigest,
          size: Buffer.byteLength(manifestBytes),
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    });
    const put = (repository: string) =>
      v2(`/v2/${repository}/manifests/multi`, {
        method: "PUT",
        body: index,
        headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
      });
    const elsewhere = await put("team-e/index");
    expect(elsewhere.status).toBe(404);
    expect((await errorOf(elsewhere)).code).toBe("MANIFEST_BLOB_UNKNOWN");
    expect((await put("team-a/secret")).status).toBe(201);
    expect((await v2(`/v2/team-a/secret/manifests/${sha256(index)}`)).status).toBe(200);
    expect((await v2(`/v2/team-e/index/manifests/${sha256(index)}`)).status).toBe(404);
  });

  it("anonymous callers of a public namespace read its images, not private blobs by digest", async () => {
    const admin = apiClient(server.url, await server.token());
    await admin.publicNamespaces.add.mutate({ namespace: "pub" });
    const own = await pushImage("pub/app", 5_000);
    const scopes = ["repository:pub/app:pull"];
    expect((await v2(`/v2/pub/app/blobs/${own.layerDigest}`, { scopes, anonymous: true })).status).toBe(200);
    expect((await v2(`/v2/pub/app/blobs/${secret.layerDigest}`, { scopes, anonymous: true })).status).toBe(404);
    expect((await v2(`/v2/pub/app/manifests/${manifestDigest}`, { scopes, anonymous: true })).status).toBe(404);
  });

  it("when an image's blobs leave the store, so does the record of where they were pushed", async () => {
    const pushed = await pushImage("team-h/app", 4_000);
    const linked = () => server.services.db.repositoryContent.count({ where: { digest: pushed.layerDigest } });
    expect(await linked()).toBe(1);
    const digest = pushed.res.headers.get("docker-content-digest")!;
    expect((await v2(`/v2/team-h/app/manifests/${digest}`, { method: "DELETE" })).status).toBe(202);
    expect(await server.services.blobs.has(Digest.parse(pushed.layerDigest))).toBe(false);
    expect(await linked()).toBe(0);
  });

  it("a manifest pushed by digest before repository_content existed is held again, from the audit log", async () => {
    const config = Buffer.from(await (await v2(`/v2/team-a/secret/blobs/${secret.imageId}`)).arrayBuffer());
    const layer = Buffer.from(await (await v2(`/v2/team-a/secret/blobs/${secret.layerDigest}`)).arrayBuffer());
    // The audit names repositories as people write them: these three are stored differently.
    const names = {
      "team-n/pinned": "docker.io/team-n/pinned",
      pinned: "docker.io/library/pinned",
      "registry.example/n/pinned": "registry.example/n/pinned",
    };
    const served = (name: string) =>
      Promise.all(
        [`manifests/${manifestDigest}`, `blobs/${secret.imageId}`, `blobs/${secret.layerDigest}`].map(
          async (p) => (await v2(`/v2/${name}/${p}`, { method: "HEAD" })).status,
        ),
      );
    for (const [name, repository] of Object.entries(names)) {
      for (const [digest, body] of [
        [secret.imageId, config],
        [secret.layerDigest, layer],
      ] as const)
        expect((await v2(`/v2/${name}/blobs/uploads/?digest=${digest}`, { method: "POST", body })).status).toBe(201);
      const put = await v2(`/v2/${name}/manifests/${manifestDigest}`, {
        method: "PUT",
        body: manifestBytes,
        headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      });
      expect(put.status).toBe(201);
      expect(await served(name)).toEqual([200, 200, 200]);
      // As it was before the table: no tag names it, so nothing holds it there.
      await server.services.db.repositoryContent.deleteMany({ where: { repository } });
      expect(await served(name)).toEqual([404, 404, 404]);
    }

    const migration = fileURLToPath(
      new URL("../../../prisma/migrations/20261128110000_repository_content_from_audit/migration.sql", import.meta.url),
    );
    await server.services.db.$executeRawUnsafe(await readFile(migration, "utf8"));
    for (const name of Object.keys(names)) expect(await served(name)).toEqual([200, 200, 200]);
    // Other repositories gain nothing.
    expect((await v2(`/v2/team-b/other/manifests/${manifestDigest}`, { method: "HEAD" })).status).toBe(404);
  });

  it("deleting a blob takes it from that repository, and from the store once no other repository was pushed it", async () => {
    const blob = randomBytes(3_000);
    const digest = sha256(blob);
    for (const repository of ["team-f/one", "team-f/two"]) {
      expect((await v2(`/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: "POST", body: blob })).status).toBe(201);
    }
    expect((await v2(`/v2/team-g/none/blobs/${digest}`, { method: "DELETE" })).status).toBe(404);
    expect((await v2(`/v2/team-f/one/blobs/${digest}`, { method: "DELETE" })).status).toBe(202);
    expect((await v2(`/v2/team-f/one/blobs/${digest}`, { method: "HEAD" })).status).toBe(404);
    expect((await v2(`/v2/team-f/two/blobs/${digest}`)).status).toBe(200);
    expect((await v2(`/v2/team-f/two/blobs/${digest}`, { method: "DELETE" })).status).toBe(202);
    expect(await server.services.blobs.has(Digest.parse(digest))).toBe(false);
  });
});

describe("a push's blobs before its manifest arrives", () => {
  /** The image `pushed` to `repository` as bytes: manifest, config and layer. */
  async function bytesOf(repository: string, pushed: OneLayerPush) {
    const digest = pushed.res.headers.get("docker-content-digest")!;
    const read = async (path: string) => Buffer.from(await (await v2(`/v2/${repository}/${path}`)).arrayBuffer());
    return {
      manifest: await read(`manifests/${digest}`),
      config: await read(`blobs/${pushed.imageId}`),
      layer: await read(`blobs/${pushed.layerDigest}`),
    };
  }
  const putManifest = (repository: string, manifest: Buffer) =>
    v2(`/v2/${repository}/manifests/1.0`, {
      method: "PUT",
      body: manifest,
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
  const upload = (repository: string, digest: string, body: Buffer) =>
    v2(`/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: "POST", body });
  const removeImage = async (ref: string) => {
    const admin = apiClient(server.url, await server.token());
    await admin.images.remove.mutate({ refs: [ref] });
  };
  const stored = (digest: string) => server.services.blobs.has(Digest.parse(digest));

  it("uploaded layers are kept when another image with them is removed, until a manifest names them", async () => {
    const first = await pushImage("team-i/first", 6_000);
    const { manifest, config, layer } = await bytesOf("team-i/first", first);
    expect((await upload("team-i/second", first.layerDigest, layer)).status).toBe(201);
    expect((await upload("team-i/second", first.imageId, config)).status).toBe(201);

    // The only image using them goes, and with it (were they not awaiting a manifest) its blobs.
    await removeImage("team-i/first:1.0");
    expect(await stored(first.layerDigest)).toBe(true);
    expect((await putManifest("team-i/second", manifest)).status).toBe(201);
    expect(Buffer.from(await (await v2(`/v2/team-i/second/blobs/${first.layerDigest}`)).arrayBuffer())).toEqual(layer);

    // Named by a manifest, they are the image's: removing it frees them.
    await removeImage("team-i/second:1.0");
    expect(await stored(first.layerDigest)).toBe(false);
    expect(await stored(first.imageId)).toBe(false);
  });

  it("a chunk sent to an upload session is kept until the session finishes", async () => {
    const first = await pushImage("team-j/first", 6_000);
    const { manifest, config, layer } = await bytesOf("team-j/first", first);
    const started = await v2("/v2/team-j/second/blobs/uploads/", { method: "POST" });
    const patched = await v2(started.headers.get("location")!, {
      method: "PATCH",
      body: layer,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(patched.status).toBe(202);

    await removeImage("team-j/first:1.0");
    expect(await stored(first.layerDigest)).toBe(true);
    expect((await v2(`${patched.headers.get("location")!}?digest=${first.layerDigest}`, { method: "PUT" })).status).toBe(201);
    expect((await upload("team-j/second", first.imageId, config)).status).toBe(201);
    expect((await putManifest("team-j/second", manifest)).status).toBe(201);
  });

  it("an upload whose manifest has not come for a day no longer keeps its blob", async () => {
    const first = await pushImage("team-k/first", 6_000);
    const { layer } = await bytesOf("team-k/first", first);
    expect((await upload("team-k/second", first.layerDigest, layer)).status).toBe(201);
    await server.services.db.$executeRaw`
      UPDATE repository_content SET awaiting_manifest_since = now() - interval '25 hours'
      WHERE repository = 'docker.io/team-k/second'`;

    await removeImage("team-k/first:1.0");
    expect(await stored(first.layerDigest)).toBe(false);
    expect((await v2(`/v2/team-k/second/blobs/${first.layerDigest}`, { method: "HEAD" })).status).toBe(404);
  });

  it("uploads whose manifest never came are let go of after a day, and leave the store unless something else uses them", async () => {
    const used = await pushImage("team-m/used", 5_000);
    const { layer } = await bytesOf("team-m/used", used);
    const [lone, fresh] = [randomBytes(3_000), randomBytes(3_000)];
    for (const [digest, body] of [
      [used.layerDigest, layer],
      [sha256(lone), lone],
    ] as const)
      expect((await upload("team-m/abandoned", digest, body)).status).toBe(201);
    expect((await upload("team-m/fresh", sha256(fresh), fresh)).status).toBe(201);
    await server.services.db.$executeRaw`
      UPDATE repository_content SET awaiting_manifest_since = now() - interval '25 hours'
      WHERE repository = 'docker.io/team-m/abandoned'`;

    await cleanAbandonedUploads(server.services);
    const head = async (repository: string, digest: string) => (await v2(`/v2/${repository}/blobs/${digest}`, { method: "HEAD" })).status;
    expect(await head("team-m/abandoned", sha256(lone))).toBe(404);
    expect(await stored(sha256(lone))).toBe(false);
    // The image's layer stays in the store and in its own repository.
    expect(await head("team-m/abandoned", used.layerDigest)).toBe(404);
    expect(await head("team-m/used", used.layerDigest)).toBe(200);
    // An upload awaiting its manifest for less than a day is untouched.
    expect(await head("team-m/fresh", sha256(fresh))).toBe(200);
  });
});
