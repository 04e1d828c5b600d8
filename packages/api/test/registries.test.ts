/**
 * The team's shared registry configuration against real registries: mirrors used by pulls
 * (and skipped when down or serving wrong bytes), credentials checked, sealed and used by
 * everyone's pulls, the audit trail with secrets redacted, admin-only changes, daemon.json.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { getRegistry } from "@berth/db";
import {
  freePort,
  htpasswdLine,
  startProxy,
  startRegistry,
  startUpstream,
  type ExtraRegistry,
  type Proxy,
  type Upstream,
} from "../../engine/test/registry-helpers";
import { hashPassword } from "../src/auth/secrets";
import { bootServer } from "../src/boot";
import { registryAccess } from "../src/services/registry-access";
import { createSecretBox, loadSecretKey, parseSecretKey } from "../src/services/secret-box";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, finishedJob } from "./client";

const fx = fixtures();

let upstream: Upstream;
let mirror: ExtraRegistry;
let server: TestServer;
let api: ReturnType<typeof apiClient>;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  [upstream, server] = await Promise.all([startUpstream(), bootTestServer()]);
  // A second CNCF registry holding the same images: the mirror.
  mirror = await startRegistry(upstream.storage, "");
  api = apiClient(server.url, await server.token());
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await mirror?.stop();
  await server?.close();
  upstream?.stop();
});

/** Polls the job until it ends (bounded). */
const finished = (id: string) => finishedJob(api, id);

async function pull(ref: string) {
  return finished((await api.jobs.pull.mutate({ ref })).id);
}

/** Health is written after each request, best effort: wait (bounded) until `check` holds. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 50 && !check(value); i++) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

async function mirrorState(domain: string, url: string) {
  const list = await api.registries.list.query();
  return list.find((r) => r.domain === domain)?.mirrors.find((m) => m.url === url);
}

/** Every stored blob's bytes hash to its name: nothing wrong was kept. */
function expectStoreVerified() {
  const dir = path.join(server.blobDir, "blobs/sha256");
  const names = existsSync(dir) ? readdirSync(dir) : [];
  for (const name of names) {
    expect(
      createHash("sha256")
        .update(readFileSync(path.join(dir, name)))
        .digest("hex"),
    ).toBe(name);
  }
}

/** What a refused call says: the validation messages (as the CLI and the page show them), else the error's message. */
async function refusal(call: Promise<unknown>): Promise<string> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e as { message: string; data?: { zodError?: { formErrors: string[]; fieldErrors: Record<string, string[]> } | null } },
  );
  if (!err) throw new Error("expected the call to be refused");
  const z = err.data?.zodError;
  return z ? [...z.formErrors, ...Object.values(z.fieldErrors).flat()].join("; ") : err.message;
}

async function lastAudit(action: string) {
  const { events } = await api.audit.list.query({ action, limit: 1 });
  return events[0]!;
}

describe("registries: the shared configuration", () => {
  it("lists docker.io from the start, and it cannot be removed", async () => {
    const list = await api.registries.list.query();
    expect(list[0]).toMatchObject({ domain: "docker.io", insecure: false, mirrors: [], username: null, removable: false });
    await expect(api.registries.remove.mutate({ domain: "docker.io" })).rejects.toThrow(/docker\.io cannot be removed/);
    expect((await lastAudit("registry.remove")).result).toBe("failed");
  });

  it("refuses bad settings with a message naming what is wrong, and stores nothing", async () => {
    const save = (input: { mirrors?: string[]; ca?: string }) =>
      refusal(api.registries.save.mutate({ domain: "registry.example.com", ...input }));
    expect(await save({ mirrors: ["not a url"] })).toBe('mirror "not a url" is not a URL (expected https://host[:port])');
    expect(await save({ mirrors: ["https://m.example.com/v2/"] })).toBe(
      'mirror "https://m.example.com/v2/": a path is not allowed (give https://m.example.com only)',
    );
    expect(await save({ mirrors: ["ftp://m.example.com"] })).toMatch(/use https:\/\/ or http:\/\//);
    expect(await save({ mirrors: ["https://m.example.com", "https://M.example.com/"] })).toBe(
      "mirror https://m.example.com is listed twice",
    );
    expect(await save({ mirrors: ["http://m.example.com"] })).toBe(
      "mirror http://m.example.com uses plain HTTP: allowed only for loopback mirrors or when registry.example.com is marked insecure",
    );
    expect(await save({ ca: "hello" })).toMatch(/holds no PEM certificate/);
    expect(await refusal(api.registries.save.mutate({ domain: "https://ghcr.io", mirrors: [] }))).toMatch(/without https:\/\//);
    expect(await refusal(api.registries.save.mutate({ domain: "not a domain", mirrors: [] }))).toMatch(/is not a registry domain/);
    expect(await refusal(api.registries.save.mutate({ domain: "ghcr", mirrors: [] }))).toMatch(/needs a dot or a port/);
    expect(await getRegistry(server.services.db, "registry.example.com")).toBeNull();
  });

  it("pulls through a configured mirror: the audit names the mirror and its bytes served grow", async () => {
    const mirrorUrl = `http://${mirror.host}`;
    const saved = await api.registries.save.mutate({ domain: upstream.host, mirrors: [mirrorUrl] });
    expect(saved.mirrors).toMatchObject([{ url: mirrorUrl, position: 0, healthy: true, bytesServed: 0 }]);

    const job = await pull(`${upstream.host}/fixtures/app:1.0`);
    expect(job.error).toBeNull();
    expect(job.state).toBe("succeeded");
    const pulled = await lastAudit("image.pull");
    expect(pulled.result).toBe("ok");
    expect(pulled.details.endpoint).toBe(mirrorUrl);

    const layers = fx.image("fixtures/app:1.0").layers.reduce((n, l) => n + l.size, 0);
    const state = await eventually(
      () => mirrorState(upstream.host, mirrorUrl),
      (m) => (m?.bytesServed ?? 0) >= layers,
    );
    expect(state).toMatchObject({ healthy: true, lastError: null });
    expect(state?.bytesServed).toBeGreaterThanOrEqual(layers);
    expect(state?.lastSuccessAt).toBeInstanceOf(Date);
    expect(typeof state?.latencyMs).toBe("number");

    const saveEvent = await lastAudit("registry.save");
    expect(saveEvent).toMatchObject({ result: "ok", actorName: "admin", targets: [{ ref: upstream.host }] });
    expect(saveEvent.details).toMatchObject({ before: null, after: { mirrors: [mirrorUrl], insecure: false, password: null } });
  });

  it("falls back to the origin when a mirror is down, and marks the mirror unhealthy with its error", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const good = `http://${mirror.host}`;
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [down, good] });
    // Only the down mirror and the origin: the pull must come from the origin.
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [down] });
    const job = await pull(`${upstream.host}/fixtures/base:1.0`);
    expect(job.error).toBeNull();
    expect(job.state).toBe("succeeded");
    expect((await lastAudit("image.pull")).details.endpoint).toBe(`http://${upstream.host}`);

    const state = await eventually(
      () => mirrorState(upstream.host, down),
      (m) => m?.healthy === false,
    );
    expect(state).toMatchObject({ healthy: false });
    expect(state?.lastError).toMatch(/cannot reach|ECONNREFUSED|connect/i);
    expect(state?.lastErrorAt).toBeInstanceOf(Date);

    // While it cools down, a healthy mirror listed after it is tried first.
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [down, good] });
    const access = await registryAccess(server.services, upstream.host);
    expect(access.pullEndpoints.map((e) => e.url)).toEqual([good, down, `http://${upstream.host}`]);
    // Reordering keeps each mirror's health (mirrors are keyed by URL).
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [good, down] });
    expect(await mirrorState(upstream.host, down)).toMatchObject({ healthy: false, lastError: state?.lastError, position: 1 });
  });

  it("mirrors only: pulls never reach the registry itself, and a failure says so; audited before/after", async () => {
    // The registry itself behind a counting proxy: what reaches the origin is seen.
    const origin: Proxy = await startProxy(upstream.host);
    cleanups.push(() => origin.close());
    const down = `http://127.0.0.1:${await freePort()}`;
    const ref = `${origin.host}/fixtures/app:1.0`;

    // Refused without a mirror: every pull would fail.
    expect(await refusal(api.registries.save.mutate({ domain: origin.host, mirrorsOnly: true, mirrors: [] }))).toBe(
      `${origin.host} is set to use its mirrors only, so it needs at least one mirror (or turn "mirrors only" off)`,
    );
    expect(await getRegistry(server.services.db, origin.host)).toBeNull();

    // Off (the default): the dead mirror fails, the origin serves.
    const off = await api.registries.save.mutate({ domain: origin.host, mirrors: [down] });
    expect(off.mirrorsOnly).toBe(false);
    const served = await pull(ref);
    expect(served.error).toBeNull();
    expect(served.state).toBe("succeeded");
    expect((await lastAudit("image.pull")).details.endpoint).toBe(`http://${origin.host}`);
    expect(origin.requests.length).toBeGreaterThan(0);

    // On: the mirrors alone; the same pull fails naming why, and the origin is not asked.
    const on = await api.registries.save.mutate({ domain: origin.host, mirrorsOnly: true, mirrors: [down] });
    expect(on).toMatchObject({ domain: origin.host, mirrorsOnly: true, mirrors: [{ url: down }] });
    const saveEvent = await lastAudit("registry.save");
    expect(saveEvent.details).toMatchObject({
      before: { mirrorsOnly: false, mirrors: [down] },
      after: { mirrorsOnly: true, mirrors: [down] },
    });
    expect((await api.registries.list.query()).find((r) => r.domain === origin.host)?.mirrorsOnly).toBe(true);
    const access = await registryAccess(server.services, origin.host);
    expect(access.pullEndpoints.map((e) => e.url)).toEqual([down]);
    // Pushes and searches still talk to the registry itself.
    expect(access.origin.url).toBe(`http://${origin.host}`);

    const asked = origin.requests.length;
    const failed = await pull(ref);
    expect(failed.state).toBe("failed");
    expect(failed.error).toMatch(/cannot reach|ECONNREFUSED|connect/i);
    expect(failed.error).toContain(
      `no mirror of ${origin.host} could serve it, and ${origin.host} is set to use its mirrors only (no fall-back to the origin)`,
    );
    expect(origin.requests.length).toBe(asked);
    const audit = await lastAudit("image.pull");
    expect(audit.result).toBe("failed");
    expect(audit.error).toContain("is set to use its mirrors only");
    expect(audit.details.endpoints).toEqual([down]);

    // Off again: audited the other way, and the origin serves again.
    await api.registries.save.mutate({ domain: origin.host, mirrorsOnly: false, mirrors: [down] });
    expect((await lastAudit("registry.save")).details).toMatchObject({ before: { mirrorsOnly: true }, after: { mirrorsOnly: false } });
    expect((await pull(`${origin.host}/fixtures/base:1.0`)).state).toBe("succeeded");
    expect(origin.requests.length).toBeGreaterThan(asked);
    await api.registries.remove.mutate({ domain: origin.host });
  });

  it("skips a mirror that could not be reached for the rest of that pull", async () => {
    // Accepts connections and drops them: every request to it fails as a network error.
    const dropping: Proxy = await startProxy(upstream.host, {
      intercept(_req, res) {
        res.socket?.destroy();
        return true;
      },
    });
    cleanups.push(() => dropping.close());
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [`http://${dropping.host}`] });
    const job = await pull(`${upstream.host}/fixtures/multi:1.0`);
    expect(job.error).toBeNull();
    expect(job.state).toBe("succeeded");
    // The index request and its one retry (mirrors get one, the origin is behind them); once the
    // origin served the index, the platform manifest, the config and the layers come from there.
    expect(dropping.requests.length).toBeGreaterThan(0);
    expect(dropping.requests.length).toBeLessThanOrEqual(2);
  });

  it("rejects a mirror serving wrong bytes: the origin serves them, nothing wrong is stored", async () => {
    const isBlob = (url: string | undefined) => /\/blobs\/sha256:/.test(url ?? "");
    const corrupting: Proxy = await startProxy(upstream.host, {
      respond(req, up, res) {
        if (req.method !== "GET" || !isBlob(req.url)) return false;
        res.writeHead(up.statusCode ?? 200, up.headers);
        let first = true;
        up.on("data", (chunk: Buffer) => {
          if (first) chunk[0] = chunk[0]! ^ 0xff;
          first = false;
          res.write(chunk);
        });
        up.on("end", () => res.end());
        return true;
      },
    });
    cleanups.push(() => corrupting.close());
    const bad = `http://${corrupting.host}`;
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [bad] });

    const job = await pull(`${upstream.host}/fixtures/app:2.0`);
    expect(job.error).toBeNull();
    expect(job.state).toBe("succeeded");
    const rows = await api.images.list.query({ all: false, filters: {} });
    expect(rows.find((r) => r.repository === `${upstream.host}/fixtures/app` && r.tag === "2.0")?.id.toString()).toBe(
      fx.image("fixtures/app:2.0").configDigest,
    );
    expect(corrupting.requests.some((r) => isBlob(r.url))).toBe(true);
    expectStoreVerified();

    const state = await eventually(
      () => mirrorState(upstream.host, bad),
      (m) => m?.healthy === false,
    );
    expect(state?.healthy).toBe(false);
    expect(state?.lastError).toMatch(/digest mismatch|not valid gzip/);
  });

  it("tests a mirror on demand: latency recorded, failures named", async () => {
    const good = `http://${mirror.host}`;
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [good] });
    const ok = await api.registries.testMirror.mutate({ domain: upstream.host, url: good });
    expect(ok).toMatchObject({ url: good, ok: true, error: null, authScheme: "none" });
    expect(ok.mirror).toMatchObject({ healthy: true, latencyMs: ok.latencyMs });

    await expect(api.registries.testMirror.mutate({ domain: upstream.host, url: "http://127.0.0.1:1" })).rejects.toThrow(
      /is not a mirror of/,
    );
    const down = `http://127.0.0.1:${await freePort()}`;
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [good, down] });
    const failed = await api.registries.testMirror.mutate({ domain: upstream.host, url: down });
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(/cannot reach|ECONNREFUSED|connect/i);
    expect(failed.mirror?.healthy).toBe(false);
    expect((await lastAudit("registry.mirror.test")).details).toMatchObject({ url: down, ok: false });
    await api.registries.save.mutate({ domain: upstream.host, mirrors: [] });
  });

  it("prints daemon.json for Docker Hub's mirrors and the insecure registries; other mirrors as hosts.toml", async () => {
    // Mirrors only (tests never reach Docker Hub); it changes nothing daemon.json can say.
    await api.registries.save.mutate({
      domain: "docker.io",
      mirrorsOnly: true,
      mirrors: ["https://mirror.gcr.io", "https://hub.example.com:5000"],
    });
    await api.registries.save.mutate({ domain: "registry.example.com:5000", insecure: true, mirrors: ["http://cache.example.com"] });
    const out = await api.registries.daemonJson.query();
    expect(JSON.parse(out.daemonJson)).toEqual({
      "registry-mirrors": ["https://mirror.gcr.io", "https://hub.example.com:5000"],
      "insecure-registries": ["registry.example.com:5000"],
    });
    expect(out.daemonJson).toContain('\n  "registry-mirrors": [\n    "https://mirror.gcr.io",');
    expect(out.notExpressible).toEqual(["registry.example.com:5000"]);
    expect(out.notes.join(" ")).toMatch(/cannot be expressed in daemon\.json/);
    const toml = out.hostsToml.find((h) => h.domain === "registry.example.com:5000");
    expect(toml?.path).toBe("/etc/containerd/certs.d/registry.example.com:5000/hosts.toml");
    expect(toml?.text).toContain('[host."http://cache.example.com"]');
    await api.registries.remove.mutate({ domain: "registry.example.com:5000" });
    await api.registries.save.mutate({ domain: "docker.io", mirrors: [] });
    expect((await lastAudit("registry.remove")).details).toMatchObject({
      before: { insecure: true, mirrors: ["http://cache.example.com"] },
      after: null,
    });
  });
});

describe("registries: credentials", () => {
  const user = "puller";
  const password = "s3cret-Registry-pw";
  let basic: ExtraRegistry;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "berth-htpasswd-"));
    const htpasswd = path.join(dir, "htpasswd");
    await writeFile(htpasswd, htpasswdLine(user, password));
    basic = await startRegistry(upstream.storage, ["  htpasswd:", "    realm: berth-test", `    path: ${htpasswd}`].join("\n"));
  }, 60_000);
  afterAll(async () => {
    await basic?.stop();
  });

  it("a pull of a registry that wants a login fails clearly without credentials", async () => {
    const job = await pull(`${basic.host}/fixtures/multi:1.0`);
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(/unauthorized: authentication required/);
  });

  it("a wrong password is refused with a clear error and nothing is stored", async () => {
    await expect(api.registries.login.mutate({ domain: basic.host, username: user, password: "wrong" })).rejects.toThrow(
      `${basic.host} refused the username or password (401 Unauthorized); nothing was stored`,
    );
    expect(await getRegistry(server.services.db, basic.host)).toBeNull();
    const failed = await lastAudit("registry.login");
    expect(failed).toMatchObject({ result: "failed", targets: [{ ref: basic.host }] });
    expect(JSON.stringify(failed)).not.toContain("wrong");
  });

  it("the right password is stored sealed, never listed, and every pull uses it", async () => {
    const res = await api.registries.login.mutate({ domain: basic.host, username: user, password });
    expect(res).toMatchObject({ verified: true, warning: null });
    expect(res.registry).toMatchObject({ domain: basic.host, username: user, credentialsSetBy: "admin" });
    expect(res.registry.credentialsSetAt).toBeInstanceOf(Date);

    // Not in the answer, not in the list, not in the database in clear.
    expect(JSON.stringify(res)).not.toContain(password);
    const listed = await api.registries.list.query();
    expect(JSON.stringify(listed)).not.toContain(password);
    expect(listed.find((r) => r.domain === basic.host)).not.toHaveProperty("passwordSealed");
    const rows = await server.services.db.$queryRaw<{ row: string }[]>`SELECT row_to_json(r)::text AS row FROM registries r`;
    expect(rows.map((r) => r.row).join("\n")).not.toContain(password);
    const stored = await getRegistry(server.services.db, basic.host);
    expect(stored?.passwordSealed).toMatch(/^v1:/);
    const { events } = await api.audit.list.query({ limit: 100 });
    expect(JSON.stringify(events)).not.toContain(password);

    const login = await lastAudit("registry.login");
    expect(login).toMatchObject({ result: "ok", actorName: "admin" });
    expect(login.details).toMatchObject({ before: null, after: { username: user, password: "***" }, verified: true });

    // A pull by another member uses the team's credentials.
    const member = apiClient(server.url, await memberToken());
    const { id } = await member.jobs.pull.mutate({ ref: `${basic.host}/fixtures/multi:1.0` });
    let job = await member.jobs.get.query({ id });
    for (let i = 0; i < 300 && (job.state === "queued" || job.state === "running"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = await member.jobs.get.query({ id });
    }
    expect(job.error).toBeNull();
    expect(job.state).toBe("succeeded");
  });

  it("logout forgets the credentials, audited with the password redacted", async () => {
    expect(await api.registries.logout.mutate({ domain: basic.host })).toEqual({ removed: true });
    const stored = await getRegistry(server.services.db, basic.host);
    expect(stored).toMatchObject({ username: null, passwordSealed: null, credentialsSetBy: null });
    const event = await lastAudit("registry.logout");
    expect(event.details).toMatchObject({ before: { username: user, password: "***" }, after: { username: null, password: null } });
    const job = await pull(`${basic.host}/fixtures/multi:1.0`);
    expect(job.state).toBe("failed");
  });
});

let memberTokenValue: string | undefined;
/** A signed-in developer (not an admin), created as the auth tests' users are: in the database. */
async function memberToken(): Promise<string> {
  if (memberTokenValue) return memberTokenValue;
  await server.services.db.user.create({
    data: { username: "dev", passwordHash: await hashPassword("dev-password-1"), role: "developer" },
  });
  memberTokenValue = await server.token("dev", "dev-password-1");
  return memberTokenValue;
}

describe("registries: who may change them", () => {
  it("a member reads the configuration and tests mirrors, but cannot change settings", async () => {
    const member = apiClient(server.url, await memberToken());
    expect((await member.registries.list.query())[0]?.domain).toBe("docker.io");
    expect(JSON.parse((await member.registries.daemonJson.query()).daemonJson)).toHaveProperty("registry-mirrors");
    const forbidden = /only an admin can do this/;
    await expect(member.registries.save.mutate({ domain: "docker.io", mirrors: ["https://evil.example.com"] })).rejects.toThrow(forbidden);
    await expect(member.registries.remove.mutate({ domain: upstream.host })).rejects.toThrow(forbidden);
    await expect(member.registries.login.mutate({ domain: "docker.io", username: "x", password: "y" })).rejects.toThrow(forbidden);
    await expect(member.registries.logout.mutate({ domain: "docker.io" })).rejects.toThrow(forbidden);
    expect((await getRegistry(server.services.db, "docker.io"))?.mirrors).toEqual([]);
  });

  it("an anonymous client cannot even read it", async () => {
    await expect(apiClient(server.url).registries.list.query()).rejects.toThrow(/sign in first/);
  });
});

describe("the server's secret key", () => {
  it("seals so that a wrong key fails clearly instead of returning garbage", () => {
    const a = createSecretBox(Buffer.alloc(32, 1));
    const b = createSecretBox(Buffer.alloc(32, 2));
    const sealed = a.seal("hunter2", "registry-credentials:x");
    expect(sealed).not.toContain("hunter2");
    expect(a.open(sealed, "registry-credentials:x")).toBe("hunter2");
    expect(() => b.open(sealed, "registry-credentials:x")).toThrow(/secret key .* is not the one it was stored with/);
    // Bound to its row: the same value does not open as another registry's.
    expect(() => a.open(sealed, "registry-credentials:y")).toThrow(/not the one it was stored with/);
    expect(() => a.open("garbage", "registry-credentials:x")).toThrow(/not in a format/);
  });

  it("a pull with credentials stored under another key fails naming the fix", async () => {
    const other = createSecretBox(Buffer.alloc(32, 9));
    await server.services.db.registry.create({
      data: { domain: "locked.example.com", username: "u", passwordSealed: other.seal("p", "registry-credentials:locked.example.com") },
    });
    await expect(registryAccess(server.services, "locked.example.com")).rejects.toThrow(
      /cannot use the stored credentials for locked\.example\.com: .*log in to locked\.example\.com again/,
    );
    await server.services.db.registry.delete({ where: { domain: "locked.example.com" } });
  });

  it("a bad BERTH_SECRET_KEY stops the start before anything else begins", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "berth-key-"));
    await expect(bootServer({ dataDir, blobDir: path.join(dataDir, "blobs"), secretKey: "not-a-key", log: () => {} })).rejects.toThrow(
      /BERTH_SECRET_KEY must be the base64 of 32 random bytes/,
    );
    expect(existsSync(path.join(dataDir, "postgres"))).toBe(false);
  });

  it("comes from BERTH_SECRET_KEY, else from <dataDir>/secret.key created once with mode 0600", async () => {
    expect(() => parseSecretKey("c2hvcnQ=")).toThrow(/BERTH_SECRET_KEY must be the base64 of 32 random bytes/);
    const given = Buffer.alloc(32, 7).toString("base64");
    const dataDir = await mkdtemp(path.join(tmpdir(), "berth-key-"));
    expect((await loadSecretKey({ dataDir, secretKey: given })).key.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(existsSync(path.join(dataDir, "secret.key"))).toBe(false);
    const first = await loadSecretKey({ dataDir });
    expect(statSync(path.join(dataDir, "secret.key")).mode & 0o777).toBe(0o600);
    const second = await loadSecretKey({ dataDir });
    expect(second.key.equals(first.key)).toBe(true);
    await writeFile(path.join(dataDir, "secret.key"), "broken\n");
    await expect(loadSecretKey({ dataDir })).rejects.toThrow(/secret\.key: the key must be the base64/);
  });
});
