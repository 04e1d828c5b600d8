/**
 * Public namespaces, driven by a real client: skopeo without credentials pulls from a namespace
 * an admin made public, and is refused (and audited) everywhere else; pushing stays for people
 * with the role; making the namespace private again closes it; only an admin changes the list,
 * each change audited with before/after.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { hashPassword } from "../src/auth/secrets";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient } from "./client";
import { skopeo } from "./skopeo";

const fx = fixtures();
const app = () => fx.images.find((i) => i.ref === "fixtures/app:1.0")!;

let server: TestServer;
let host: string;
let dir: string;
let admin: ReturnType<typeof apiClient>;
let dev: ReturnType<typeof apiClient>;

const adminCreds = () => `admin:${server.adminPassword}`;

async function push(ref: string) {
  await skopeo(
    "copy",
    `oci:${fx.layout}:fixtures/app:1.0`,
    `docker://${host}/${ref}`,
    "--dest-creds",
    adminCreds(),
    "--dest-tls-verify=false",
  );
}

const anonymousInspect = (ref: string) => skopeo("inspect", "--tls-verify=false", "--no-creds", `docker://${host}/${ref}`);

async function anonymousToken(scope: string): Promise<string> {
  const res = await fetch(`${server.url}/v2/token?service=berth&scope=${encodeURIComponent(scope)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

const events = (action: string, result?: string) =>
  server.services.db.auditEvent.findMany({ where: { action, ...(result ? { result } : {}) }, orderBy: { id: "asc" } });

beforeAll(async () => {
  server = await bootTestServer();
  host = new URL(server.url).host;
  dir = mkdtempSync(path.join(tmpdir(), "berth-registry-public-"));
  admin = apiClient(server.url, await server.token());
  await server.services.db.user.create({
    data: { username: "dev", role: "developer", passwordHash: await hashPassword("dev-password-1") },
  });
  dev = apiClient(server.url, await server.token("dev", "dev-password-1"));
  await push("pub/app:1.0");
  await push("team-a/app:1.0");
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("public namespaces", () => {
  it("anonymous pulls are refused while no namespace is public, and the refusal is audited", async () => {
    await expect(anonymousInspect("pub/app:1.0")).rejects.toThrow(/unauthorized|authentication required/i);
    // One event for the attempt: the challenges before the client held a token for the repository are the protocol.
    const denied = (await events("image.pull", "denied")).filter((e) => e.actorName === "anonymous");
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ interface: "registry", actorId: null, targets: [{ ref: "pub/app" }] });
  });

  it("a non-admin cannot make a namespace public; the refusal is audited", async () => {
    await expect(dev.publicNamespaces.add.mutate({ namespace: "pub" })).rejects.toThrow(/only an admin can do this/);
    const [refused] = await events("namespace.public.add", "denied");
    expect(refused).toMatchObject({ actorName: "dev", targets: [{ ref: "namespace:pub" }] });
    expect(await dev.publicNamespaces.list.query()).toEqual([]);
  });

  it("an admin makes a namespace public, audited with before/after; everyone signed in sees it", async () => {
    const made = await admin.publicNamespaces.add.mutate({ namespace: "pub" });
    expect(made).toMatchObject({ namespace: "pub", setBy: "admin" });
    const [event] = await events("namespace.public.add", "ok");
    expect(event).toMatchObject({ actorName: "admin", targets: [{ ref: "namespace:pub" }] });
    expect(event!.details).toMatchObject({ namespace: "pub", before: { public: false }, after: { public: true, setBy: "admin" } });
    expect((await dev.publicNamespaces.list.query()).map((p) => p.namespace)).toEqual(["pub"]);
    // Twice is a conflict, named.
    await expect(admin.publicNamespaces.add.mutate({ namespace: "pub" })).rejects.toThrow(/already public/);
  });

  it("anonymous skopeo inspects, lists and copies an image of the public namespace", async () => {
    const inspected = JSON.parse(await anonymousInspect("pub/app:1.0")) as { Digest: string };
    expect(inspected.Digest).toBe(app().ociDigest);
    const tags = JSON.parse(await skopeo("list-tags", "--tls-verify=false", "--no-creds", `docker://${host}/pub/app`)) as {
      Tags: string[];
    };
    expect(tags.Tags).toEqual(["1.0"]);
    const out = path.join(dir, "pub");
    await skopeo("copy", "--src-tls-verify=false", "--src-no-creds", `docker://${host}/pub/app:1.0`, `oci:${out}:pub`);
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests[0]!.digest).toBe(app().ociDigest);
  });

  it("a robot token scoped to another namespace may pull from the public one too (anyone may), but not from a private one", async () => {
    const robot = await admin.tokens.createRobot.mutate({ name: "ci", namespaces: ["team-c"], actions: ["push"] });
    const creds = `ci:${robot.token}`;
    const inspected = JSON.parse(await skopeo("inspect", "--tls-verify=false", "--creds", creds, `docker://${host}/pub/app:1.0`)) as {
      Digest: string;
    };
    expect(inspected.Digest).toBe(app().ociDigest);
    await expect(skopeo("inspect", "--tls-verify=false", "--creds", creds, `docker://${host}/team-a/app:1.0`)).rejects.toThrow(
      /denied|not scoped/i,
    );
    const [denied] = (await events("image.pull", "denied")).filter((e) => e.actorName === "robot:ci");
    expect(denied).toMatchObject({ interface: "registry", targets: [{ ref: "team-a/app" }], details: { robot: { createdBy: "admin" } } });
  });

  it("a private namespace stays closed to anonymous callers (UNAUTHORIZED, audited)", async () => {
    const before = (await events("image.pull", "denied")).filter((e) => e.actorName === "anonymous").length;
    await expect(anonymousInspect("team-a/app:1.0")).rejects.toThrow(/unauthorized|authentication required/i);
    const after = (await events("image.pull", "denied")).filter((e) => e.actorName === "anonymous");
    expect(after.length).toBeGreaterThan(before);
    expect(after.at(-1)).toMatchObject({ interface: "registry", targets: [{ ref: "team-a/app" }] });
    expect(after.at(-1)!.details).toMatchObject({ permission: "pull", namespace: "team-a" });
  });

  it("the token server grants anonymous callers pull in the public namespace only; the catalog lists only public repositories", async () => {
    const res = await fetch(
      `${server.url}/v2/token?service=berth&scope=repository:pub/app:pull,push,delete&scope=repository:team-a/app:pull&scope=registry:catalog:*`,
    );
    const { token } = (await res.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString("utf8")) as { sub: null; access: unknown[] };
    expect(claims.sub).toBeNull();
    expect(claims.access).toEqual([
      { type: "repository", name: "pub/app", actions: ["pull"] },
      { type: "repository", name: "team-a/app", actions: [] },
      { type: "registry", name: "catalog", actions: ["*"] },
    ]);
    const catalog = await fetch(`${server.url}/v2/_catalog`, { headers: { authorization: `Bearer ${token}` } });
    expect(catalog.status).toBe(200);
    expect(await catalog.json()).toEqual({ repositories: ["pub/app"] });
    // Without any token the catalog still asks the client to authenticate (anonymously, if it likes).
    expect((await fetch(`${server.url}/v2/_catalog`)).status).toBe(401);
  });

  it("anonymous push to the public namespace is refused and audited", async () => {
    await expect(
      skopeo("copy", `oci:${fx.layout}:fixtures/app:2.0`, `docker://${host}/pub/app:2.0`, "--dest-no-creds", "--dest-tls-verify=false"),
    ).rejects.toThrow(/unauthorized|authentication required|denied/i);
    const denied = await events("image.push", "denied");
    expect(denied.some((e) => e.actorName === "anonymous" && e.interface === "registry")).toBe(true);
    // A plain upload with an anonymous token for pull,push: the token grants no push, refused.
    const token = await anonymousToken("repository:pub/app:pull,push");
    const upload = await fetch(`${server.url}/v2/pub/app/blobs/uploads/`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(upload.status).toBe(401);
    const tags = await server.services.db.tag.findMany({ where: { repository: "docker.io/pub/app" } });
    expect(tags.map((t) => t.tag)).toEqual(["1.0"]);
  });

  it("making it private again closes it; the change is audited with before/after", async () => {
    const issuedWhilePublic = await anonymousToken("repository:pub/app:pull");
    const removed = await admin.publicNamespaces.remove.mutate({ namespace: "pub" });
    expect(removed).toMatchObject({ namespace: "pub", setBy: "admin" });
    const [event] = await events("namespace.public.remove", "ok");
    expect(event).toMatchObject({ actorName: "admin", targets: [{ ref: "namespace:pub" }] });
    expect(event!.details).toMatchObject({ namespace: "pub", before: { public: true, setBy: "admin" }, after: { public: false } });
    await expect(anonymousInspect("pub/app:1.0")).rejects.toThrow(/unauthorized|authentication required/i);
    // A token issued while it was public is judged again on use.
    const res = await fetch(`${server.url}/v2/pub/app/tags/list`, { headers: { authorization: `Bearer ${issuedWhilePublic}` } });
    expect(res.status).toBe(401);
    await expect(admin.publicNamespaces.remove.mutate({ namespace: "pub" })).rejects.toThrow(/not public/);
    await expect(dev.publicNamespaces.remove.mutate({ namespace: "pub" })).rejects.toThrow(/only an admin can do this/);
  });
});
