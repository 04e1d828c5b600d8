/**
 * Tag protection and pinned images against a real server and PostgreSQL: who may change rules,
 * protected tags refused to developers and maintainers (tag, rmi, load, pull) but not to an
 * admin, pinned images kept by rmi and prune, and every change and refusal in the audit log.
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { startUpstream, type Upstream } from "../../engine/test/registry-helpers";
import { hashPassword } from "../src/auth/secrets";
import { patternMatches, ruleFor } from "../src/services/tag-rules";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, uploadArchive } from "./client";

const fx = fixtures();
const A1 = fx.image("fixtures/app:1.0").configDigest;
const A2 = fx.image("fixtures/app:2.0").configDigest;
const BASE = fx.image("fixtures/base:1.0").configDigest;

type Api = ReturnType<typeof apiClient>;
let server: TestServer;
let upstream: Upstream;
let admin: Api;
let dev: Api;
let maint: Api;
/** A developer who maintains team-a only (a grant). */
let lead: Api;
const tokens: Record<string, string> = {};

async function person(username: string, role: "developer" | "maintainer", grants: Record<string, "maintainer"> = {}): Promise<Api> {
  const password = `${username}-password-1`;
  const user = await server.services.db.user.create({ data: { username, passwordHash: await hashPassword(password), role } });
  for (const [namespace, granted] of Object.entries(grants)) {
    await server.services.db.namespaceGrant.create({ data: { userId: user.id, namespace, role: granted } });
  }
  tokens[username] = await server.token(username, password);
  return apiClient(server.url, tokens[username]);
}

async function lastEvent(action: string, result?: "ok" | "denied" | "failed", actor?: string) {
  const { events } = await admin.audit.list.query({ action, limit: 50 });
  const event = events.find((e) => (!result || e.result === result) && (!actor || e.actorName === actor));
  if (!event) throw new Error(`no ${result ?? ""} ${action} event${actor ? ` by ${actor}` : ""}`);
  return event;
}

/** The first input validation message of a refused call, as the CLI and the dashboard show it. */
async function inputError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    const zod = (err as { data?: { zodError?: { fieldErrors: Record<string, string[] | undefined> } | null } }).data?.zodError;
    return Object.values(zod?.fieldErrors ?? {}).flat()[0] ?? String(err);
  }
  throw new Error("the call was not refused");
}

const imageOf = async (ref: string) => (await admin.protection.image.query({ ref })).id;
const protectedMessage = (ref: string, pattern: string, namespace: string) =>
  `tag ${ref} is protected by rule "${pattern}" in namespace ${namespace}; only an admin can move or remove it`;

beforeAll(async () => {
  [server, upstream] = await Promise.all([bootTestServer(), startUpstream()]);
  tokens.admin = await server.token();
  admin = apiClient(server.url, tokens.admin);
  dev = await person("dev", "developer");
  maint = await person("maint", "maintainer");
  lead = await person("lead", "developer", { "team-a": "maintainer" });
  const loaded = await uploadArchive(
    server.url,
    tokens.admin,
    Readable.toWeb(createReadStream(path.join(fx.archives, "all.tar"))) as never,
  );
  expect(loaded.status).toBe(200);
}, 180_000);

afterAll(async () => {
  await server?.close();
  upstream?.stop();
});

describe("rule patterns", () => {
  it("* is any run of characters (none too), ? exactly one, everything else literal", () => {
    expect(patternMatches("release-*", "release-1")).toBe(true);
    expect(patternMatches("release-*", "release-")).toBe(true);
    expect(patternMatches("release-*", "prerelease-1")).toBe(false);
    expect(patternMatches("v*.*.*", "v1.2.3")).toBe(true);
    expect(patternMatches("v*.*.*", "v10.20.30-rc.1")).toBe(true);
    expect(patternMatches("v*.*.*", "v1x2x3")).toBe(false);
    expect(patternMatches("v*.*.*", "v1.2")).toBe(false);
    expect(patternMatches("rc?", "rc1")).toBe(true);
    expect(patternMatches("rc?", "rc10")).toBe(false);
    expect(patternMatches("latest", "latest")).toBe(true);
    expect(patternMatches("latest", "latest2")).toBe(false);
    const rules = [{ pattern: "v*" }, { pattern: "release-*" }, { pattern: "*" }];
    expect(ruleFor(rules, "release-1")?.pattern).toBe("*");
    expect(ruleFor([{ pattern: "v*" }], "latest")).toBeUndefined();
  });
});

describe("rules: who may change them", () => {
  it("needs protect (maintainer) in that namespace; refusals are audited", async () => {
    await expect(dev.protection.add.mutate({ namespace: "team-a", pattern: "release-*" })).rejects.toThrow(
      /changing tag protection in namespace "team-a" needs the maintainer role/,
    );
    await expect(lead.protection.add.mutate({ namespace: "team-b", pattern: "release-*" })).rejects.toThrow(/namespace "team-b"/);
    const denied = await lastEvent("protection.rule.add", "denied", "dev");
    expect(denied.error).toMatch(/needs the maintainer role/);

    const added = await lead.protection.add.mutate({ namespace: "team-a", pattern: "release-*" });
    expect(added).toMatchObject({ namespace: "team-a", pattern: "release-*", createdBy: "lead" });
    await maint.protection.add.mutate({ namespace: "team-a", pattern: "v*.*.*" });
    await expect(maint.protection.add.mutate({ namespace: "team-a", pattern: "release-*" })).rejects.toThrow(
      'rule "release-*" already exists in namespace team-a (added by lead)',
    );
    expect((await dev.protection.rules.query({})).map((r) => [r.namespace, r.pattern])).toEqual([
      ["team-a", "release-*"],
      ["team-a", "v*.*.*"],
    ]);
  });

  it("names what is wrong with a namespace or a pattern", async () => {
    expect(await inputError(admin.protection.add.mutate({ namespace: "Team A", pattern: "x" }))).toBe(
      '"Team A" is not a namespace: give the first path component of a repository, lowercase, like team-a (for team-a/app)',
    );
    expect(await inputError(admin.protection.add.mutate({ namespace: "team-a", pattern: "rel/ease" }))).toMatch(
      /^"rel\/ease" is not a tag pattern: use letters, digits/,
    );
    await expect(admin.protection.remove.mutate({ namespace: "team-a", pattern: "nope-*" })).rejects.toThrow(
      'no rule "nope-*" in namespace team-a',
    );
  });

  it("adding and removing are audited with before and after", async () => {
    const add = await lastEvent("protection.rule.add", "ok", "lead");
    expect(add.targets.map((t) => t.ref)).toEqual(["team-a/*:release-*"]);
    expect(add.details).toMatchObject({ before: null, after: { namespace: "team-a", pattern: "release-*", createdBy: "lead" } });

    await lead.protection.add.mutate({ namespace: "team-a", pattern: "tmp-*" });
    await lead.protection.remove.mutate({ namespace: "team-a", pattern: "tmp-*" });
    const removed = await lastEvent("protection.rule.remove", "ok", "lead");
    expect(removed.details).toMatchObject({ before: { namespace: "team-a", pattern: "tmp-*", createdBy: "lead" }, after: null });
    expect((await dev.protection.rules.query({ namespace: "team-a" })).map((r) => r.pattern)).toEqual(["release-*", "v*.*.*"]);
    await expect(dev.protection.remove.mutate({ namespace: "team-a", pattern: "release-*" })).rejects.toThrow(/needs the maintainer role/);
    expect((await lastEvent("protection.rule.remove", "denied", "dev")).error).toMatch(/needs the maintainer role/);
  });
});

describe("protected tags", () => {
  const release = "docker.io/team-a/app:release-1";

  it("creating a protected tag is fine; moving it is refused to a developer and a maintainer, and audited", async () => {
    await dev.images.tag.mutate({ source: "fixtures/app:1.0", target: "team-a/app:release-1" });
    // Pointing it again at the image it names is no move.
    await dev.images.tag.mutate({ source: A1, target: "team-a/app:release-1" });
    for (const [who, api] of [
      ["dev", dev],
      ["maint", maint],
      ["lead", lead],
    ] as const) {
      await expect(api.images.tag.mutate({ source: "fixtures/app:2.0", target: "team-a/app:release-1" })).rejects.toThrow(
        protectedMessage(release, "release-*", "team-a"),
      );
      const event = await lastEvent("image.tag", "denied", who);
      expect(event.error).toBe(protectedMessage(release, "release-*", "team-a"));
      expect(event.targets.map((t) => t.ref)).toEqual(["team-a/app:release-1"]);
    }
    expect(await imageOf("team-a/app:release-1")).toBe(A1);
    // Tags no rule matches move as before.
    await dev.images.tag.mutate({ source: "fixtures/app:1.0", target: "team-a/app:dev" });
    await dev.images.tag.mutate({ source: "fixtures/app:2.0", target: "team-a/app:dev" });
    expect(await imageOf("team-a/app:dev")).toBe(A2);
  });

  it("an admin moves it, and the audit says which rule was overridden", async () => {
    await admin.images.tag.mutate({ source: "fixtures/app:2.0", target: "team-a/app:release-1" });
    const event = await lastEvent("image.tag", "ok", "admin");
    expect(event.targets[0]).toMatchObject({ ref: "team-a/app:release-1" });
    expect(String(event.targets[0]?.digestBefore)).toBe(A1);
    expect(String(event.targets[0]?.digestAfter)).toBe(A2);
    expect(event.details.protectedTagsOverridden).toEqual([{ ref: release, namespace: "team-a", pattern: "release-*" }]);
    await admin.images.tag.mutate({ source: "fixtures/app:1.0", target: "team-a/app:release-1" });
  });

  it("the image shows which of its tags are protected, by which rule", async () => {
    const status = await dev.protection.image.query({ ref: "team-a/app:release-1" });
    expect(status.id).toBe(A1);
    expect(status.pinned).toBe(false);
    expect(status.tags).toEqual(
      expect.arrayContaining([
        { ref: "team-a/app:release-1", rule: { namespace: "team-a", pattern: "release-*" } },
        { ref: "fixtures/app:1.0", rule: null },
      ]),
    );
  });

  it("removing it is refused to a maintainer, by name or forced by ID, with nothing removed; a developer may not remove at all", async () => {
    const out = await maint.images.remove.mutate({ refs: ["team-a/app:release-1", A1, "team-a/app:dev"], force: true });
    expect(out.results.map((r) => r.error ?? null)).toEqual([
      protectedMessage(release, "release-*", "team-a"),
      protectedMessage(release, "release-*", "team-a"),
      null,
    ]);
    expect(out.results[1]?.items).toEqual([]);
    const status = await admin.protection.image.query({ ref: A1 });
    expect(status.tags.map((t) => t.ref).sort()).toEqual(["fixtures/app:1.0", "team-a/app:release-1"]);

    const lead1 = await lead.images.remove.mutate({ refs: ["team-a/app:release-1"], force: true });
    expect(lead1.results[0]?.error).toBe(protectedMessage(release, "release-*", "team-a"));
    await expect(dev.images.remove.mutate({ refs: ["team-a/app:release-1"], force: true })).rejects.toThrow(/needs the maintainer role/);

    const { events } = await admin.audit.list.query({ action: "image.remove", limit: 50 });
    const denials = events.filter((e) => e.result === "denied" && e.error === protectedMessage(release, "release-*", "team-a"));
    expect(denials.map((e) => [e.actorName, e.targets[0]?.ref])).toEqual([
      ["lead", "team-a/app:release-1"],
      ["maint", A1],
      ["maint", "team-a/app:release-1"],
    ]);
    // A call refused whole leaves its denial and nothing else; a partly refused one an `ok` for what it removed.
    expect(events.filter((e) => e.actorName === "lead").map((e) => e.result)).toEqual(["denied"]);
    const maintOk = events.filter((e) => e.actorName === "maint" && e.result === "ok");
    expect(maintOk.map((e) => e.targets.map((t) => t.ref))).toEqual([["team-a/app:dev"]]);
    expect(await imageOf("team-a/app:release-1")).toBe(A1);
  });

  it("an admin removes it, audited as an override", async () => {
    const out = await admin.images.remove.mutate({ refs: ["team-a/app:release-1"], force: false });
    expect(out.results[0]).toMatchObject({ items: [{ untagged: "team-a/app:release-1" }] });
    expect(out.results[0]?.error).toBeUndefined();
    const event = await lastEvent("image.remove", "ok", "admin");
    expect(event.details.protectedTagsOverridden).toEqual([{ ref: release, namespace: "team-a", pattern: "release-*" }]);
  });

  it("a load that would move a protected tag is refused as a whole and audited; an admin's goes through", async () => {
    await admin.protection.add.mutate({ namespace: "fixtures", pattern: "1.*" });
    await admin.images.tag.mutate({ source: "fixtures/app:2.0", target: "fixtures/app:1.0" });
    const archive = () => Readable.toWeb(createReadStream(path.join(fx.archives, "app-1.0.tar"))) as never;

    const refused = await uploadArchive(server.url, tokens.dev!, archive(), "app-1.0.tar");
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe(protectedMessage("docker.io/fixtures/app:1.0", "1.*", "fixtures"));
    expect((await lastEvent("image.load", "denied", "dev")).error).toBe(refused.body.error);
    expect(await imageOf("fixtures/app:1.0")).toBe(A2);

    const loaded = await uploadArchive(server.url, tokens.admin!, archive(), "app-1.0.tar");
    expect(loaded.status).toBe(200);
    expect(await imageOf("fixtures/app:1.0")).toBe(A1);
    expect((await lastEvent("image.load", "ok", "admin")).details.protectedTagsOverridden).toEqual([
      { ref: "docker.io/fixtures/app:1.0", namespace: "fixtures", pattern: "1.*" },
    ]);
  });

  it("a pull that would move a protected tag fails and is audited as denied; an admin's pull moves it", async () => {
    const ref = `${upstream.host}/fixtures/app:1.0`;
    await admin.images.tag.mutate({ source: "fixtures/app:2.0", target: ref });
    const pull = async (api: Api) => {
      const { id } = await api.jobs.pull.mutate({ ref });
      for (let i = 0; i < 300; i++) {
        const job = await api.jobs.get.query({ id });
        if (job.state !== "queued" && job.state !== "running") return job;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`pull ${id} did not finish`);
    };
    const refused = await pull(dev);
    expect(refused.state).toBe("failed");
    expect(refused.error).toBe(protectedMessage(ref, "1.*", "fixtures"));
    expect((await lastEvent("image.pull", "denied", "dev")).error).toBe(refused.error);
    expect(await imageOf(ref)).toBe(A2);

    const done = await pull(admin);
    expect(done.error).toBeNull();
    expect(await imageOf(ref)).toBe(A1);
    await admin.protection.remove.mutate({ namespace: "fixtures", pattern: "1.*" });
  });
});

describe("pinned images", () => {
  it("pinning needs a maintainer, and is audited with before and after", async () => {
    await expect(dev.images.pin.mutate({ ref: "fixtures/base:1.0" })).rejects.toThrow(/pinning images in namespace "fixtures" needs/);
    expect((await lastEvent("image.pin", "denied", "dev")).error).toMatch(/needs the maintainer role/);
    expect(await maint.images.pin.mutate({ ref: "fixtures/base:1.0" })).toMatchObject({ id: BASE, pinned: true });
    const event = await lastEvent("image.pin", "ok", "maint");
    expect(event.details).toMatchObject({ before: { pinned: false }, after: { pinned: true } });
    expect(String(event.targets[0]?.digestAfter)).toBe(BASE);
    expect((await dev.protection.image.query({ ref: BASE })).pinned).toBe(true);
  });

  it("rmi does not delete a pinned image, by its last tag or by ID, forced or not, even for an admin", async () => {
    const message = `conflict: unable to delete ${BASE.slice(7, 19)} (cannot be forced) - image is pinned; unpin it first`;
    const byName = await maint.images.remove.mutate({ refs: ["fixtures/base:1.0"], force: true });
    expect(byName.results[0]?.error).toBe(message);
    const byId = await admin.images.remove.mutate({ refs: [BASE], force: true });
    expect(byId.results[0]?.error).toBe(message);
    expect(await imageOf("fixtures/base:1.0")).toBe(BASE);
  });

  it("prune keeps it, dangling or with -a, and the preview says why", async () => {
    // Its only tag moves away: the pinned image is now dangling.
    await maint.images.tag.mutate({ source: "fixtures/app:2.0", target: "fixtures/base:1.0" });
    for (const all of [false, true]) {
      const preview = await maint.images.prune.mutate({ all, filters: {}, dryRun: true });
      expect(preview.skipped).toEqual([{ id: BASE, reason: "pinned" }]);
      expect(preview.deleted).not.toContain(BASE);
      const pruned = await maint.images.prune.mutate({ all, filters: {}, dryRun: false });
      expect(pruned.skipped).toEqual([{ id: BASE, reason: "pinned" }]);
      expect((await admin.protection.image.query({ ref: BASE })).pinned).toBe(true);
    }
    expect((await lastEvent("image.prune", "ok", "maint")).details.skipped).toEqual([{ id: BASE, reason: "pinned" }]);
  });

  it("prune never removes an image that carries a protected tag", async () => {
    // Both of A1's tags (fixtures/app:1.0 and the pulled one) are protected by this rule.
    await admin.protection.add.mutate({ namespace: "fixtures", pattern: "1.*" });
    for (const all of [false, true]) await maint.images.prune.mutate({ all, filters: {}, dryRun: false });
    expect(await imageOf("fixtures/app:1.0")).toBe(A1);
    await admin.protection.remove.mutate({ namespace: "fixtures", pattern: "1.*" });
  });

  it("unpinned (by ID: the default role decides), it goes with the next prune", async () => {
    await expect(dev.images.unpin.mutate({ ref: BASE })).rejects.toThrow(/pinning images needs the maintainer role/);
    expect(await maint.images.unpin.mutate({ ref: BASE })).toMatchObject({ id: BASE, pinned: false });
    expect((await lastEvent("image.unpin", "ok", "maint")).details).toMatchObject({ before: { pinned: true }, after: { pinned: false } });
    const pruned = await maint.images.prune.mutate({ all: false, filters: {}, dryRun: false });
    expect(pruned.deleted).toContain(BASE);
    expect(pruned.skipped).toEqual([]);
  });
});
