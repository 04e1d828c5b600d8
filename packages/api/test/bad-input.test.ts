/**
 * Bad archives over HTTP: a clear error naming the problem, and nothing kept — no blob,
 * no ingest file, no image or tag row — plus a `failed` audit event saying why.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pack } from "tar-stream";
import { fixtures } from "@berth/fixtures";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, uploadArchive } from "./client";

const fx = fixtures();
let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await bootTestServer();
  token = await server.token();
});
afterAll(async () => server?.close());

function tarOf(members: { name: string; body?: string | Buffer; type?: "file" | "symlink"; linkname?: string }[]): Promise<Buffer> {
  const p = pack();
  for (const m of members) {
    if (m.type === "symlink") p.entry({ name: m.name, type: "symlink", linkname: m.linkname });
    else p.entry({ name: m.name }, m.body ?? "");
  }
  p.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    p.on("data", (c: unknown) => chunks.push(c as Buffer));
    p.on("end", () => resolve(Buffer.concat(chunks)));
    p.on("error", reject);
  });
}

function stored(dir: string): string[] {
  const full = path.join(server.blobDir, dir);
  return existsSync(full) ? readdirSync(full) : [];
}

async function expectRejected(body: Buffer | string, message: RegExp) {
  const res = await uploadArchive(server.url, token, body);
  expect(res.status).toBe(400);
  expect(res.body.error).toMatch(message);
  expect(stored("blobs/sha256")).toEqual([]);
  expect(stored("ingest")).toEqual([]);
  const db = server.services.db;
  expect(await db.image.count()).toBe(0);
  expect(await db.tag.count()).toBe(0);
  const { events } = await apiClient(server.url, token).audit.list.query({ action: "image.load", limit: 1 });
  expect(events[0]).toMatchObject({ result: "failed", actorName: "admin" });
  expect(events[0]?.error).toMatch(message);
}

describe("loading bad archives keeps nothing", () => {
  const good = () => readFileSync(path.join(fx.archives, "app-1.0.tar"));

  it("a truncated archive", async () => {
    const bytes = good();
    await expectRejected(bytes.subarray(0, Math.floor(bytes.length * 0.6)), /truncated/);
  });

  it("something that is not a tar", async () => {
    await expectRejected("definitely not a tar archive\n".repeat(40), /not a tar archive/);
  });

  it("a corrupt gzip", async () => {
    const gz = gzipSync(good());
    gz.fill(0x55, 20, 400);
    await expectRejected(gz, /gzip|corrupt/);
  });

  it("manifest.json missing, not JSON, or pointing at missing files", async () => {
    await expectRejected(await tarOf([{ name: "repositories", body: "{}" }]), /manifest\.json/);
    await expectRejected(await tarOf([{ name: "manifest.json", body: "[{not json" }]), /manifest\.json/);
    await expectRejected(
      await tarOf([{ name: "manifest.json", body: JSON.stringify([{ Config: "missing.json", RepoTags: ["a:b"], Layers: [] }]) }]),
      /missing\.json/,
    );
  });

  it("a member escaping the archive and a symlinked manifest", async () => {
    await expectRejected(await tarOf([{ name: "../evil.json", body: "{}" }]), /\.\./);
    await expectRejected(await tarOf([{ name: "manifest.json", type: "symlink", linkname: "/etc/passwd" }]), /manifest\.json/);
  });
});

describe("removing what is not there", () => {
  it("is one failed audit event naming the reference, not an ok with nothing removed", async () => {
    const api = apiClient(server.url, token);
    const out = await api.images.remove.mutate({ refs: ["nothing/here:1"], force: false });
    expect(out.results[0]?.error).toMatch(/No such image: nothing\/here:1/);
    const { events } = await api.audit.list.query({ action: "image.remove", limit: 5 });
    expect(events.map((e) => [e.result, e.targets.map((t) => t.ref)])).toEqual([["failed", ["nothing/here:1"]]]);
    expect(events[0]?.error).toMatch(/No such image/);
  });
});
