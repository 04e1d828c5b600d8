/**
 * The distribution spec's endpoints and error codes, spoken with fetch: the token flow,
 * uploads (monolithic, chunked, out of order, wrong digest, mounts), manifests referring to
 * missing blobs, names that break the grammar, and pagination edges.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Digest } from "@berth/engine";
import { hashPassword } from "../src/auth/secrets";
import { signToken } from "../src/registry-api/bearer-token";
import { cleanAbandonedUploads } from "../src/registry-api/uploads";
import { bootTestServer, type TestServer } from "../src/testing";

let server: TestServer;
const PASSWORD = "registry-spec-Pa55";

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

async function token(user: string | null, scope: string[]): Promise<string> {
  const q = new URLSearchParams({ service: "berth" });
  for (const s of scope) q.append("scope", s);
  const headers: Record<string, string> = {};
  if (user)
    headers.authorization = `Basic ${Buffer.from(`${user}:${user === "admin" ? server.adminPassword : PASSWORD}`).toString("base64")}`;
  const res = await fetch(`${server.url}/v2/token?${q.toString()}`, { headers });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

async function v2(pathname: string, bearer: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (bearer) headers.set("authorization", `Bearer ${bearer}`);
  return fetch(`${server.url}${pathname}`, { ...init, headers });
}

async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

/** Uploads a blob in one request and returns its digest. */
async function putBlob(name: string, bearer: string, data: Buffer | string): Promise<string> {
  const digest = sha256(data);
  const res = await v2(`/v2/${name}/blobs/uploads/?digest=${digest}`, bearer, { method: "POST", body: data });
  expect(res.status).toBe(201);
  return digest;
}

/** A one-layer image (uncompressed layer) pushed as blobs; returns its manifest. */
async function pushImageBlobs(name: string, bearer: string, marker: string): Promise<Buffer> {
  const layer = Buffer.from(`layer ${marker}`.padEnd(1024, "."));
  const layerDigest = await putBlob(name, bearer, layer);
  const config = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layerDigest] }, config: {} });
  const configDigest = await putBlob(name, bearer, config);
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: Buffer.byteLength(config) },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length }],
    }),
  );
}

const putManifest = (name: string, ref: string, bearer: string, body: Buffer) =>
  v2(`/v2/${name}/manifests/${ref}`, bearer, {
    method: "PUT",
    body,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });

let admin: string;

beforeAll(async () => {
  server = await bootTestServer();
  for (const [username, role] of [
    ["vera", "viewer"],
    ["dev", "developer"],
  ]) {
    await server.services.db.user.create({ data: { username: username!, role: role!, passwordHash: await hashPassword(PASSWORD) } });
  }
  admin = await token("admin", ["repository:team-a/app:pull,push", "repository:team-a/other:pull,push", "registry:catalog:*"]);
});
afterAll(async () => {
  await server?.close();
});

describe("auth", () => {
  it("GET /v2/ without a token: 401 with the Bearer challenge and the API version", async () => {
    const res = await v2("/v2/", null);
    expect(res.status).toBe(401);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect(res.headers.get("www-authenticate")).toBe(`Bearer realm="${server.url}/v2/token",service="berth"`);
    expect(await errorCode(res)).toBe("UNAUTHORIZED");
    expect((await v2("/v2/", admin)).status).toBe(200);
    expect((await v2("/v2/", "garbage.token")).status).toBe(401);
  });

  it("issues short-lived tokens; a wrong password is refused and audited", async () => {
    const res = await fetch(`${server.url}/v2/token?service=berth&scope=repository:team-a/app:pull`, {
      headers: { authorization: `Basic ${Buffer.from("admin:nope").toString("base64")}` },
    });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("UNAUTHORIZED");
    const ok = await fetch(`${server.url}/v2/token?service=berth`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${server.adminPassword}`).toString("base64")}` },
    });
    const body = (await ok.json()) as { token: string; expires_in: number; issued_at: string };
    expect(body.expires_in).toBeLessThanOrEqual(300);
    expect(Date.parse(body.issued_at)).toBeGreaterThan(Date.now() - 60_000);
    const denied = await server.services.db.auditEvent.findMany({ where: { action: "registry.login", result: "denied" } });
    expect(denied.map((e) => e.actorName)).toContain("admin");
  });

  it("a token for a scope without permission grants nothing: a viewer pushing gets 403 DENIED, audited", async () => {
    const viewer = await token("vera", ["repository:team-a/app:pull,push"]);
    const res = await v2("/v2/team-a/app/blobs/uploads/", viewer, { method: "POST" });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("DENIED");
    const events = await server.services.db.auditEvent.findMany({ where: { action: "image.push", result: "denied", actorName: "vera" } });
    expect(events).toHaveLength(1);
    expect(events[0]!.interface).toBe("registry");
    // Anonymous: no person, so the client is asked to authenticate.
    const anonymous = await token(null, ["repository:team-a/app:pull"]);
    const anon = await v2("/v2/team-a/app/tags/list", anonymous);
    expect(anon.status).toBe(401);
  });

  it("a token not issued for the repository is answered with a challenge naming the scope to ask for", async () => {
    const res = await v2("/v2/team-b/app/tags/list", admin);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('scope="repository:team-b/app:pull"');
  });

  it("an expired or forged token is refused", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: null, tid: null, iat: now - 600, exp: now - 300, access: [] };
    const expired = signToken(server.services.secrets, claims);
    const res = await v2("/v2/", expired);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/expired/);
    const [payload] = admin.split(".");
    expect((await v2("/v2/", `${payload}.${Buffer.alloc(32).toString("base64url")}`)).status).toBe(401);
  });
});

describe("names", () => {
  it("rejects names outside the grammar with NAME_INVALID, and path tricks never reach a repository", async () => {
    for (const name of ["Team-A/app", "team-a/.hidden", "team-a/app%2F..%2Fb", "-a/b", "a__-b/c"]) {
      const res = await v2(`/v2/${name}/tags/list`, admin);
      expect(res.status, name).toBe(400);
      expect(await errorCode(res)).toBe("NAME_INVALID");
    }
  });
});

describe("blobs and uploads", () => {
  it("monolithic upload, then GET and HEAD with Range; unknown blobs are BLOB_UNKNOWN", async () => {
    const data = Buffer.from("0123456789abcdef");
    const digest = await putBlob("team-a/app", admin, data);
    const head = await v2(`/v2/team-a/app/blobs/${digest}`, admin, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("16");
    expect(head.headers.get("docker-content-digest")).toBe(digest);
    const part = await v2(`/v2/team-a/app/blobs/${digest}`, admin, { headers: { range: "bytes=4-7" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 4-7/16");
    expect(await part.text()).toBe("4567");
    expect((await v2(`/v2/team-a/app/blobs/${digest}`, admin, { headers: { range: "bytes=20-" } })).status).toBe(416);
    const missing = await v2(`/v2/team-a/app/blobs/sha256:${"0".repeat(64)}`, admin);
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe("BLOB_UNKNOWN");
    const bad = await v2("/v2/team-a/app/blobs/sha256:xyz", admin);
    expect(await errorCode(bad)).toBe("DIGEST_INVALID");
  });

  it("chunked upload: status, 416 for a chunk out of order, DIGEST_INVALID for a wrong digest, 201 when right", async () => {
    const start = await v2("/v2/team-a/app/blobs/uploads/", admin, { method: "POST" });
    expect(start.status).toBe(202);
    const location = start.headers.get("location")!;
    expect(location).toMatch(/^\/v2\/team-a\/app\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const patch = (body: string, range: string) => v2(location, admin, { method: "PATCH", body, headers: { "content-range": range } });
    const first = await patch("hello ", "0-5");
    expect(first.status).toBe(202);
    expect(first.headers.get("range")).toBe("0-5");
    const outOfOrder = await patch("there", "10-14");
    expect(outOfOrder.status).toBe(416);
    expect(await errorCode(outOfOrder)).toBe("RANGE_INVALID");
    expect((await patch("world", "6-10")).status).toBe(202);
    const status = await v2(location, admin);
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe("0-10");
    const wrong = await v2(`${location}?digest=${sha256("something else")}`, admin, { method: "PUT" });
    expect(wrong.status).toBe(400);
    expect(await errorCode(wrong)).toBe("DIGEST_INVALID");

    const again = (await v2("/v2/team-a/app/blobs/uploads/", admin, { method: "POST" })).headers.get("location")!;
    await v2(again, admin, { method: "PATCH", body: "hello ", headers: { "content-range": "0-5" } });
    const done = await v2(`${again}?digest=${sha256("hello world")}`, admin, { method: "PUT", body: "world" });
    expect(done.status).toBe(201);
    expect(done.headers.get("location")).toBe(`/v2/team-a/app/blobs/${sha256("hello world")}`);
    expect(await (await v2(`/v2/team-a/app/blobs/${sha256("hello world")}`, admin)).text()).toBe("hello world");
    // The session is gone once finished.
    const gone = await v2(again, admin);
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe("BLOB_UPLOAD_UNKNOWN");
  });

  it("mounts a known blob from another repository; an unknown one falls back to an upload session", async () => {
    const digest = await putBlob("team-a/app", admin, "mount me");
    const mounted = await v2(`/v2/team-a/other/blobs/uploads/?mount=${digest}&from=team-a/app`, admin, { method: "POST" });
    expect(mounted.status).toBe(201);
    expect(mounted.headers.get("docker-content-digest")).toBe(digest);
    const unknown = await v2(`/v2/team-a/other/blobs/uploads/?mount=sha256:${"1".repeat(64)}&from=team-a/app`, admin, { method: "POST" });
    expect(unknown.status).toBe(202);
    expect(unknown.headers.get("location")).toMatch(/\/blobs\/uploads\//);
  });

  it("abandoned sessions are removed with the chunks only they wrote", async () => {
    const location = (await v2("/v2/team-a/app/blobs/uploads/", admin, { method: "POST" })).headers.get("location")!;
    await v2(location, admin, { method: "PATCH", body: "abandoned chunk", headers: { "content-range": "0-14" } });
    expect(await server.services.blobs.has(Digest.parse(sha256("abandoned chunk")))).toBe(true);
    expect(await cleanAbandonedUploads(server.services, 0)).toBeGreaterThanOrEqual(1);
    expect(await server.services.blobs.has(Digest.parse(sha256("abandoned chunk")))).toBe(false);
    expect((await v2(location, admin)).status).toBe(404);
  });
});

describe("manifests and tags", () => {
  it("a manifest naming a missing blob is MANIFEST_BLOB_UNKNOWN; unknown manifests are MANIFEST_UNKNOWN", async () => {
    const manifest = JSON.parse((await pushImageBlobs("team-a/app", admin, "missing")).toString()) as { layers: { digest: string }[] };
    manifest.layers[0]!.digest = `sha256:${"2".repeat(64)}`;
    const res = await putManifest("team-a/app", "broken", admin, Buffer.from(JSON.stringify(manifest)));
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("MANIFEST_BLOB_UNKNOWN");
    const unknown = await v2("/v2/team-a/app/manifests/nope", admin);
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe("MANIFEST_UNKNOWN");
    const malformed = await putManifest("team-a/app", "bad", admin, Buffer.from("{not json"));
    expect(await errorCode(malformed)).toBe("MANIFEST_INVALID");
  });

  it("an oversized manifest is refused with 413 before it is read", async () => {
    const res = await putManifest("team-a/app", "huge", admin, Buffer.alloc(4 * 1024 * 1024 + 1, 0x20));
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe("SIZE_INVALID");
  });

  it("an empty OCI index is MANIFEST_INVALID", async () => {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [] }));
    const res = await v2("/v2/team-a/app/manifests/multi", admin, {
      method: "PUT",
      body: index,
      headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]!.code).toBe("MANIFEST_INVALID");
    expect(body.errors[0]!.message).toMatch(/lists no manifests/);
  });

  it("an upload session can be cancelled", async () => {
    const location = (await v2("/v2/team-a/app/blobs/uploads/", admin, { method: "POST" })).headers.get("location")!;
    expect((await v2(location, admin, { method: "DELETE" })).status).toBe(204);
    expect(await errorCode(await v2(location, admin))).toBe("BLOB_UPLOAD_UNKNOWN");
  });

  it("PUT by tag stores an image; GET by tag and by digest serve the same bytes; a wrong digest is DIGEST_INVALID", async () => {
    const body = await pushImageBlobs("team-a/app", admin, "one");
    const digest = sha256(body);
    const put = await putManifest("team-a/app", "v1", admin, body);
    expect(put.status).toBe(201);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    for (const ref of ["v1", digest]) {
      const res = await v2(`/v2/team-a/app/manifests/${ref}`, admin);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/vnd.oci.image.manifest.v1+json");
      expect(res.headers.get("docker-content-digest")).toBe(digest);
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
    }
    const mismatch = await putManifest("team-a/app", sha256("other"), admin, body);
    expect(mismatch.status).toBe(400);
    expect(await errorCode(mismatch)).toBe("DIGEST_INVALID");
  });

  it("honours tag protection: a developer cannot move a protected tag (DENIED, audited)", async () => {
    await server.services.db.tagProtectionRule.create({ data: { namespace: "team-a", pattern: "release-*", createdBy: "admin" } });
    expect((await putManifest("team-a/app", "release-1", admin, await pushImageBlobs("team-a/app", admin, "r1"))).status).toBe(201);
    const dev = await token("dev", ["repository:team-a/app:pull,push"]);
    const moved = await putManifest("team-a/app", "release-1", dev, await pushImageBlobs("team-a/app", dev, "r2"));
    expect(moved.status).toBe(403);
    expect(await errorCode(moved)).toBe("DENIED");
    const events = await server.services.db.auditEvent.findMany({ where: { action: "image.push", result: "denied", actorName: "dev" } });
    expect(events.length).toBeGreaterThanOrEqual(1);
  });

  it("DELETE of a manifest untags it (remove permission: a developer is DENIED); an unused blob can be deleted", async () => {
    const body = await pushImageBlobs("team-a/app", admin, "doomed");
    expect((await putManifest("team-a/app", "doomed", admin, body)).status).toBe(201);
    const dev = await token("dev", ["repository:team-a/app:pull,push,delete"]);
    const refused = await v2("/v2/team-a/app/manifests/doomed", dev, { method: "DELETE" });
    expect(refused.status).toBe(403);
    expect(await errorCode(refused)).toBe("DENIED");
    const remover = await token("admin", ["repository:team-a/app:pull,delete"]);
    expect((await v2(`/v2/team-a/app/manifests/${sha256(body)}`, remover, { method: "DELETE" })).status).toBe(202);
    expect(await errorCode(await v2("/v2/team-a/app/manifests/doomed", remover))).toBe("MANIFEST_UNKNOWN");
    const removed = await server.services.db.auditEvent.findMany({
      where: { action: "image.remove", result: "ok", interface: "registry" },
    });
    expect(removed).toHaveLength(1);

    const unused = await putBlob("team-a/app", admin, "unused blob");
    expect((await v2(`/v2/team-a/app/blobs/${unused}`, remover, { method: "DELETE" })).status).toBe(202);
    expect(await errorCode(await v2(`/v2/team-a/app/blobs/${unused}`, remover))).toBe("BLOB_UNKNOWN");
  });

  it("a manifest with a subject answers OCI-Subject and is listed by the referrers API, filtered by artifactType", async () => {
    const subjectBody = await pushImageBlobs("team-a/app", admin, "subject");
    expect((await putManifest("team-a/app", "subject", admin, subjectBody)).status).toBe(201);
    const subject = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(subjectBody), size: subjectBody.length };
    const referrer = JSON.parse((await pushImageBlobs("team-a/app", admin, "sbom")).toString()) as Record<string, unknown>;
    const body = Buffer.from(JSON.stringify({ ...referrer, artifactType: "application/example.sbom", subject }));
    const put = await putManifest("team-a/app", "sbom", admin, body);
    expect(put.status).toBe(201);
    expect(put.headers.get("oci-subject")).toBe(subject.digest);
    const all = await v2(`/v2/team-a/app/referrers/${subject.digest}`, admin);
    expect(all.headers.get("content-type")).toBe("application/vnd.oci.image.index.v1+json");
    const index = (await all.json()) as { manifests: { digest: string; artifactType: string }[] };
    expect(index.manifests).toEqual([expect.objectContaining({ digest: sha256(body), artifactType: "application/example.sbom" })]);
    const filtered = await v2(`/v2/team-a/app/referrers/${subject.digest}?artifactType=application/other`, admin);
    expect(filtered.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(((await filtered.json()) as { manifests: unknown[] }).manifests).toEqual([]);
  });

  it("tags/list and _catalog paginate with n and last, and a Link to the next page", async () => {
    const body = await pushImageBlobs("team-a/other", admin, "tags");
    for (const tag of ["a", "b", "c", "d"]) expect((await putManifest("team-a/other", tag, admin, body)).status).toBe(201);
    const first = await v2("/v2/team-a/other/tags/list?n=2", admin);
    expect(await first.json()).toEqual({ name: "team-a/other", tags: ["a", "b"] });
    expect(first.headers.get("link")).toBe('</v2/team-a/other/tags/list?n=2&last=b>; rel="next"');
    const last = await v2("/v2/team-a/other/tags/list?n=2&last=b", admin);
    expect(await last.json()).toEqual({ name: "team-a/other", tags: ["c", "d"] });
    expect(last.headers.get("link")).toBeNull();
    expect(await (await v2("/v2/team-a/other/tags/list?n=0", admin)).json()).toEqual({ name: "team-a/other", tags: [] });
    expect(await (await v2("/v2/team-a/other/tags/list?last=d", admin)).json()).toEqual({ name: "team-a/other", tags: [] });
    expect(await errorCode(await v2("/v2/team-a/other/tags/list?n=-1", admin))).toBe("PAGINATION_NUMBER_INVALID");
    const unknown = await v2("/v2/team-a/nothing/tags/list", await token("admin", ["repository:team-a/nothing:pull"]));
    expect(await errorCode(unknown)).toBe("NAME_UNKNOWN");

    const catalog = await v2("/v2/_catalog?n=1", admin);
    expect(await catalog.json()).toEqual({ repositories: ["team-a/app"] });
    expect(catalog.headers.get("link")).toBe('</v2/_catalog?n=1&last=team-a%2Fapp>; rel="next"');
    expect(await (await v2("/v2/_catalog?n=1&last=team-a/app", admin)).json()).toEqual({ repositories: ["team-a/other"] });
  });
});
