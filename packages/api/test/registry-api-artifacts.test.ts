/**
 * OCI 1.1 artifacts pushed to Berth's /v2/ (what `oras attach`, `cosign` and Helm push): kept and
 * served as pushed, listed by the referrers API, tagged apart from images, keeping their blobs,
 * deleted by digest with their blobs, audited.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient } from "./client";

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const EMPTY = "{}";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

let server: TestServer;
let bearer: string;

async function v2(pathname: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${bearer}`);
  return fetch(`${server.url}${pathname}`, { ...init, headers });
}

async function putBlob(data: string): Promise<string> {
  const digest = sha256(data);
  expect((await v2(`/v2/team-a/app/blobs/uploads/?digest=${digest}`, { method: "POST", body: data })).status).toBe(201);
  return digest;
}

async function putManifest(reference: string, doc: unknown): Promise<{ res: Response; bytes: string }> {
  const bytes = JSON.stringify(doc);
  const res = await v2(`/v2/team-a/app/manifests/${reference}`, { method: "PUT", body: bytes, headers: { "content-type": OCI_MANIFEST } });
  return { res, bytes };
}

/** An image to attach things to. */
async function pushImage(tag: string): Promise<{ digest: string; size: number }> {
  const layer = `layer ${tag}`.padEnd(1024, ".");
  const layerDigest = await putBlob(layer);
  const config = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layerDigest] }, config: {} });
  const configDigest = await putBlob(config);
  const { res, bytes } = await putManifest(tag, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length }],
  });
  expect(res.status).toBe(201);
  return { digest: sha256(bytes), size: bytes.length };
}

/** An artifact as `oras attach` builds it: empty config, one layer of its own type, a subject. */
async function artifact(content: string, artifactType: string, subject?: { digest: string; size: number }) {
  const emptyDigest = await putBlob(EMPTY);
  const layerDigest = await putBlob(content);
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: { mediaType: "application/vnd.oci.empty.v1+json", digest: emptyDigest, size: 2 },
    layers: [{ mediaType: "application/spdx+json", digest: layerDigest, size: content.length }],
    ...(subject ? { subject: { mediaType: OCI_MANIFEST, ...subject } } : {}),
    annotations: { "org.opencontainers.image.created": "2026-11-26T00:00:00Z" },
  };
}

beforeAll(async () => {
  server = await bootTestServer();
  const q = new URLSearchParams({ service: "berth", scope: "repository:team-a/app:pull,push,delete" });
  const basic = Buffer.from(`admin:${server.adminPassword}`).toString("base64");
  bearer = (
    (await (await fetch(`${server.url}/v2/token?${q.toString()}`, { headers: { authorization: `Basic ${basic}` } })).json()) as {
      token: string;
    }
  ).token;
});
afterAll(async () => {
  await server?.close();
});

describe("artifacts pushed to Berth", () => {
  it("an SBOM attached to an image by digest is served as pushed and listed by the referrers API", async () => {
    const image = await pushImage("1.0");
    const sbom = await artifact('{"sbom":1}', "application/spdx+json", image);
    const { res, bytes } = await putManifest(sha256(JSON.stringify(sbom)), sbom);
    expect(res.status).toBe(201);
    expect(res.headers.get("oci-subject")).toBe(image.digest);
    const got = await v2(`/v2/team-a/app/manifests/${sha256(bytes)}`);
    expect(got.headers.get("docker-content-digest")).toBe(sha256(bytes));
    expect(await got.text()).toBe(bytes);

    const referrers = (await (await v2(`/v2/team-a/app/referrers/${image.digest}`)).json()) as {
      manifests: { digest: string; artifactType: string; annotations?: Record<string, string> }[];
    };
    expect(referrers.manifests).toEqual([
      expect.objectContaining({
        digest: sha256(bytes),
        artifactType: "application/spdx+json",
        annotations: { "org.opencontainers.image.created": "2026-11-26T00:00:00Z" },
      }),
    ]);
    const none = (await (await v2(`/v2/team-a/app/referrers/${image.digest}?artifactType=application/vnd.dev.cosign`)).json()) as {
      manifests: unknown[];
    };
    expect(none.manifests).toEqual([]);

    // Not an image: the dashboard lists the image once, and shows the SBOM on its page.
    const api = apiClient(server.url, await server.token());
    const rows = await api.images.list.query();
    expect(rows.filter((r) => r.repository === "team-a/app").map((r) => r.tag)).toEqual(["1.0"]);
    expect(await api.images.attachments.query({ ref: "team-a/app:1.0" })).toEqual([
      expect.objectContaining({ repository: "team-a/app", digest: sha256(bytes), artifactType: "application/spdx+json", tags: [] }),
    ]);
    const events = await server.services.db.auditEvent.findMany({ where: { action: "artifact.push" } });
    expect(events.at(-1)).toMatchObject({ result: "ok", actorName: "admin" });
    expect(events.at(-1)!.details).toMatchObject({ artifactType: "application/spdx+json", subject: image.digest });
  });

  it("a tagged artifact is listed with the tags; an artifact may not take an image's tag, an image replaces an artifact's", async () => {
    const signature = await artifact("signature", "application/vnd.dev.cosign.artifact.sig.v1+json");
    const { res, bytes } = await putManifest("sha256-abc.sig", signature);
    expect(res.status).toBe(201);
    expect(await (await v2("/v2/team-a/app/manifests/sha256-abc.sig")).text()).toBe(bytes);
    const tags = (await (await v2("/v2/team-a/app/tags/list")).json()) as { tags: string[] };
    expect(tags.tags).toEqual(expect.arrayContaining(["1.0", "sha256-abc.sig"]));

    const refused = await putManifest("1.0", signature);
    expect(refused.res.status).toBe(403);
    expect(((await refused.res.json()) as { errors: { code: string; message: string }[] }).errors[0]).toMatchObject({
      code: "DENIED",
      message: expect.stringContaining("names an image") as string,
    });

    const image = await pushImage("sha256-abc.sig");
    const served = await v2("/v2/team-a/app/manifests/sha256-abc.sig", { headers: { accept: OCI_MANIFEST } });
    expect(served.headers.get("docker-content-digest")).toBe(image.digest);
  });

  it("keeps the blobs an artifact names; deleting it by digest removes it and the blobs nothing else uses", async () => {
    const content = "only this artifact has these bytes";
    const doc = await artifact(content, "application/example.report");
    const { res, bytes } = await putManifest(sha256(JSON.stringify(doc)), doc);
    expect(res.status).toBe(201);
    const blob = sha256(content);
    // A blob an artifact names is not an orphan: DELETE of the blob alone is refused.
    expect((await v2(`/v2/team-a/app/blobs/${blob}`, { method: "DELETE" })).status).not.toBe(202);

    expect((await v2(`/v2/team-a/app/manifests/${sha256(bytes)}`, { method: "DELETE" })).status).toBe(202);
    expect((await v2(`/v2/team-a/app/manifests/${sha256(bytes)}`)).status).toBe(404);
    expect((await v2(`/v2/team-a/app/blobs/${blob}`)).status).toBe(404);
    // The empty config is shared with the other artifacts: it stays.
    expect((await v2(`/v2/team-a/app/blobs/${sha256(EMPTY)}`, { method: "HEAD" })).status).toBe(200);
    const removed = await server.services.db.auditEvent.findMany({ where: { action: "artifact.remove" } });
    expect(removed).toHaveLength(1);
  });

  it("refuses an artifact whose blobs were not uploaded", async () => {
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/example.report",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256("never uploaded"), size: 14 },
      layers: [],
    };
    const { res } = await putManifest("missing", doc);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("MANIFEST_BLOB_UNKNOWN");
  });
});
