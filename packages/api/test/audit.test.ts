/**
 * The audit log over the API: filters on the wire, an image's own history, CSV and JSON Lines
 * exports of a filtered range, export-and-archive (a verifiable file plus the event recording
 * it), and chain verification for admins only.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { verifyAuditArchive } from "@berth/db";
import { hashPassword } from "../src/auth/secrets";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, uploadArchive } from "./client";

const fx = fixtures();

let server: TestServer;
let token: string;
let viewerToken: string;
let api: ReturnType<typeof apiClient>;

const get = (url: string, auth = token) =>
  fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${auth}`, "x-berth-client": "cli" } });
const post = (url: string, auth = token) =>
  fetch(`${server.url}${url}`, { method: "POST", headers: { authorization: `Bearer ${auth}`, "x-berth-client": "cli" } });

beforeAll(async () => {
  server = await bootTestServer();
  token = await server.token();
  api = apiClient(server.url, token);
  await server.services.db.user.create({ data: { username: "vera", passwordHash: await hashPassword("vera-password"), role: "viewer" } });
  viewerToken = await server.token("vera", "vera-password");
  const res = await uploadArchive(
    server.url,
    token,
    Readable.toWeb(createReadStream(path.join(fx.archives, "all.tar"))) as never,
    "all.tar",
  );
  expect(res.status).toBe(200);
  // fixtures/app:1.0 → team-a/app:v1; then v1 moves to app:2.0; then the tag is removed.
  await api.images.tag.mutate({ source: "fixtures/app:1.0", target: "team-a/app:v1" });
  await api.images.tag.mutate({ source: "fixtures/app:2.0", target: "team-a/app:v1" });
  await api.images.tag.mutate({ source: "fixtures/app:2.0", target: "team-a/app:v2" });
  await api.images.remove.mutate({ refs: ["team-a/app:v2"], force: false });
});
afterAll(async () => server?.close());

describe("the audit log over the API", () => {
  it("filters by namespace, repository, tag, digest prefix, action prefix and result", async () => {
    const app1 = fx.image("fixtures/app:1.0").configDigest;
    const app2 = fx.image("fixtures/app:2.0").configDigest;
    const actions = async (input: Parameters<typeof api.audit.list.query>[0]) =>
      (await api.audit.list.query(input)).events.map((e) => e.action);
    expect(await actions({ namespace: "team-a" })).toEqual(["image.remove", "image.tag", "image.tag", "image.tag"]);
    expect(await actions({ repository: "team-a/app", tag: "v1" })).toEqual(["image.tag", "image.tag"]);
    expect(await actions({ digest: app1.slice(7, 19), action: "image.*" })).toEqual(["image.tag", "image.tag", "image.load"]);
    expect(await actions({ digest: app2, namespace: "team-a", result: "ok" })).toEqual(["image.remove", "image.tag", "image.tag"]);
    expect(await actions({ person: "admin", action: "image.l*" })).toEqual(["image.load"]);
    await expect(api.audit.list.query({ digest: "abc" })).rejects.toThrow(
      /invalid digest filter "abc": a digest prefix needs at least 12 hex characters/,
    );
    await expect(api.audit.list.query({ namespace: "Team A" })).rejects.toThrow(/invalid namespace filter/);
  });

  it("lists the actions recorded so far", async () => {
    expect(await api.audit.actions.query()).toEqual(expect.arrayContaining(["image.load", "image.remove", "image.tag", "token.create"]));
  });

  it("gives an image its own history: its ID, its tags and where they moved from", async () => {
    const app1 = fx.image("fixtures/app:1.0").configDigest;
    const app2 = fx.image("fixtures/app:2.0").configDigest;
    const history = await api.audit.forImage.query({ id: app2 });
    const summary = history.events.map((e) => [
      e.action,
      e.targets.map((t) => `${t.ref} ${String(t.digestBefore)}→${String(t.digestAfter)}`).join(";"),
    ]);
    expect(summary).toEqual([
      ["image.remove", `team-a/app:v2 ${app2}→null`],
      ["image.tag", `team-a/app:v2 null→${app2}`],
      ["image.tag", `team-a/app:v1 ${app1}→${app2}`],
      // Its tags' earlier history too: v1 pointed at app:1.0 first.
      ["image.tag", `team-a/app:v1 null→${app1}`],
      ["image.load", expect.stringContaining(`fixtures/app:2.0 null→${app2}`)],
    ]);
    // app:1.0 lost team-a/app:v1, but the move names its ID as digestBefore.
    const old = await api.audit.forImage.query({ id: app1, limit: 1 });
    expect(old.events.map((e) => e.action)).toEqual(["image.tag"]);
    expect(old.nextCursor).not.toBeNull();
    const rest = await api.audit.forImage.query({ id: app1, cursor: old.nextCursor! });
    expect(rest.events.map((e) => e.action)).toEqual(["image.tag", "image.load"]);
    await expect(api.audit.forImage.query({ id: "nope" })).rejects.toThrow(/invalid image ID "nope"/);
  });

  it("exports a filtered range as CSV and JSON Lines", async () => {
    const csv = await get("/api/audit/export?format=csv&namespace=team-a&action=image.tag");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split("\n");
    expect(lines[0]).toBe("id,at,actorName,action,result,error,interface,ip,userAgent,targets,details,hash");
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).every((l) => l.includes(",image.tag,ok,"))).toBe(true);

    const jsonl = await get("/api/audit/export?format=jsonl&repository=team-a/app&tag=v2");
    const events = (await jsonl.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { action: string });
    expect(events.map((e) => e.action)).toEqual(["image.remove", "image.tag"]);

    const bad = await get("/api/audit/export?format=xml");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid audit export format "xml": use csv or jsonl' });
    const unknown = await get("/api/audit/export?colour=red");
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/unknown parameter "colour"/);
    const badDate = await get("/api/audit/export?from=yesterday");
    expect(badDate.status).toBe(400);
    expect(((await badDate.json()) as { error: string }).error).toMatch(/from/);
  });

  it("archives a range into a file that verifies offline, and records the file's sha256", async () => {
    const all = (await api.audit.list.query({ limit: 500 })).events;
    const from = all.at(-1)!.at;
    const to = new Date(all[2]!.at.getTime() + 1);
    const res = await post(`/api/audit/archive?from=${from.toISOString()}&to=${to.toISOString()}`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    const lines = body.toString("utf8").split("\n");
    const result = await verifyAuditArchive(lines);
    expect(result).toMatchObject({ ok: true, firstId: all.at(-1)!.id, firstPrevHash: null });
    const inRange = all.filter((e) => e.at >= from && e.at < to);
    expect(result.ok && result.count).toBe(inRange.length);

    const [recorded] = (await api.audit.list.query({ action: "audit.archive", limit: 1 })).events;
    expect(recorded?.actorName).toBe("admin");
    expect(recorded?.details).toMatchObject({
      count: inRange.length,
      sha256: createHash("sha256").update(body).digest("hex"),
      firstId: inRange.at(-1)!.id,
      lastId: inRange[0]!.id,
      lastHash: inRange[0]!.hash,
      from: from.toISOString(),
      to: to.toISOString(),
    });
    // The events are still there.
    expect((await api.audit.list.query({ limit: 500 })).events.length).toBe(all.length + 1);
  });

  it("refuses archive and verify to non-admins, and records the refusal", async () => {
    const res = await post("/api/audit/archive", viewerToken);
    expect(res.status).toBe(403);
    await expect(apiClient(server.url, viewerToken).audit.verify.query()).rejects.toThrow();
    const denied = await api.audit.list.query({ person: "vera", result: "denied" });
    expect(denied.events.map((e) => e.action)).toContain("audit.archive");
    expect((await get("/api/audit/archive")).status).toBe(405);
    const empty = await post(`/api/audit/archive?from=${new Date(Date.now() + 3_600_000).toISOString()}`);
    expect(empty.status).toBe(404);
  });

  it("verifies the chain for an admin", async () => {
    const result = await api.audit.verify.query();
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.count).toBeGreaterThan(8);
  });
});
