/**
 * The permission matrix: every mutation × every kind of caller, against a real server, allowed or
 * refused exactly as the permission model says (viewer < developer < maintainer < admin, grants
 * per namespace on top of the default role, robot tokens = scope ∩ owner). Each refusal must be
 * in the audit log as `denied`, under the caller's name, with the attempted action and the reason.
 */
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "../src/testing";
import { hashPassword, hashSecret, newSecret } from "../src/auth/secrets";
import { apiClient, uploadArchive } from "./client";
import { tinyArchive } from "./tiny-archive";

type Api = ReturnType<typeof apiClient>;
/** Allowed, Denied (403 FORBIDDEN), Unauthenticated (401: no, expired, revoked or disabled credentials). */
type Outcome = "A" | "D" | "U";

interface Caller {
  token: string | undefined;
  /** The audit's actor name. */
  auditName: string;
  /** Whose user owns the caller's tokens (for `token revoke`). */
  owner: string;
  /** A robot's creator, expected in details.robot.createdBy. */
  robotOf?: string;
  /** For 401s: the reason the audit must give. */
  authFailure?: string;
}

const PASSWORD = "matrix-password-1";
/** An image every tag comes from (loaded by the admin). */
const SOURCE = "matrix/src:1";
/** Pulls and pushes are queued for a registry that refuses connections: only queueing is judged. */
const REGISTRY = "127.0.0.1:9";

let server: TestServer;
let admin: Api;
let cell = 0;
const callers: Record<string, Caller> = {};
/** Per namespace, an archive whose only tag is in that namespace. */
const archives: Record<string, Buffer> = {};

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Op {
  audit: string;
  run(api: Api, caller: Caller, n: number): Promise<unknown>;
}

const tagOp = (ns: string): Op => ({
  audit: "image.tag",
  run: (api, _c, n) => api.images.tag.mutate({ source: SOURCE, target: `${ns}/app:t${n}` }),
});

const removeOp = (ns: string): Op => ({
  audit: "image.remove",
  async run(api, _c, n) {
    await admin.images.tag.mutate({ source: SOURCE, target: `${ns}/rm:r${n}` });
    const result = await api.images.remove.mutate({ refs: [`${ns}/rm:r${n}`] });
    if (result.results[0]?.error) throw new Error(result.results[0].error);
  },
});

const loadOp = (ns: string): Op => ({
  audit: "image.load",
  async run(_api, caller) {
    const res = await uploadArchive(server.url, caller.token ?? "", archives[ns]);
    if (res.status !== 200) throw new HttpRefusal(res.status, res.body.error ?? `status ${res.status}`);
  },
});

/** A pasted Dockerfile: queueing it needs `load` where its tag goes, like a load. */
const buildOp = (ns: string): Op => ({
  audit: "image.build",
  run: (api, _c, n) => api.jobs.build.mutate({ dockerfile: "FROM scratch\nLABEL matrix=yes\n", tags: [`${ns}/built:b${n}`] }),
});

const pullOp = (ns: string): Op => ({
  audit: "image.pull",
  run: (api, _c, n) => api.jobs.pull.mutate({ ref: `${REGISTRY}/${ns}/app:p${n}` }),
});

const pushOp = (ns: string): Op => ({
  audit: "image.push",
  async run(api, _c, n) {
    await admin.images.tag.mutate({ source: SOURCE, target: `${REGISTRY}/${ns}/push:p${n}` });
    return api.jobs.push.mutate({ ref: `${REGISTRY}/${ns}/push:p${n}` });
  },
});

const OPS: Record<string, Op> = {
  "tag-a": tagOp("team-a"),
  "tag-b": tagOp("team-b"),
  "rm-a": removeOp("team-a"),
  "rm-b": removeOp("team-b"),
  "load-a": loadOp("team-a"),
  "load-b": loadOp("team-b"),
  "build-a": buildOp("team-a"),
  "build-b": buildOp("team-b"),
  "pull-a": pullOp("team-a"),
  "pull-b": pullOp("team-b"),
  "push-a": pushOp("team-a"),
  "push-b": pushOp("team-b"),
  prune: {
    audit: "image.prune",
    // A filter nothing matches: the permission is judged, nothing is removed.
    run: (api) => api.images.prune.mutate({ filters: { label: ["berth.matrix=none"] } }),
  },
  registries: { audit: "registry.save", run: (api, _c, n) => api.registries.save.mutate({ domain: `r${n}.example.com` }) },
  invite: { audit: "user.invite", run: (api) => api.users.invite.mutate({ role: "viewer" }) },
  grant: {
    audit: "grant.set",
    run: (api, _c, n) => api.users.setGrant.mutate({ username: "vera", namespace: `g${n}`, role: "developer" }),
  },
  public: {
    audit: "namespace.public.add",
    run: (api, _c, n) => api.publicNamespaces.add.mutate({ namespace: `p${n}` }),
  },
  "token+": { audit: "token.create", run: (api, _c, n) => api.tokens.create.mutate({ name: `t${n}` }) },
  "token-": {
    audit: "token.revoke",
    async run(api, caller, n) {
      const owner = await server.services.db.user.findUniqueOrThrow({ where: { username: caller.owner } });
      const secret = newSecret("berth_");
      const token = await server.services.db.apiToken.create({
        data: { userId: owner.id, name: `own${n}`, tokenHash: hashSecret(secret), tokenPrefix: secret.slice(0, 12) },
      });
      return api.tokens.revoke.mutate({ id: token.id });
    },
  },
};

/**
 * The permission model, written out; -a: in namespace team-a, -b: in team-b.
 * vera: viewer. gina: viewer + developer grant in team-a. dev: developer. mona: developer +
 * maintainer grant in team-a. max: maintainer. robot-a: the admin's robot, team-a, every robot
 * action. robot-pull: dev's robot, team-a, pull and push. robot-vera: vera's robot, "*", every action.
 * A: allowed. D: refused (403). U: not signed in (401).
 */
const EXPECTED = `
  caller      tag-a  tag-b  rm-a  rm-b  load-a  load-b  build-a  build-b  pull-a  pull-b  push-a  push-b  prune  registries  invite  grant  public  token+  token-
  vera          D      D     D     D      D       D        D        D       D       D       D       D       D        D         D       D      D       A       A
  gina          A      D     D     D      A       D        A        D       A       D       A       D       D        D         D       D      D       A       A
  dev           A      A     D     D      A       A        A        A       A       A       A       A       D        D         D       D      D       A       A
  mona          A      A     A     D      A       A        A        A       A       A       A       A       D        D         D       D      D       A       A
  max           A      A     A     A      A       A        A        A       A       A       A       A       A        D         D       D      D       A       A
  admin         A      A     A     A      A       A        A        A       A       A       A       A       A        A         A       A      A       A       A
  anonymous     U      U     U     U      U       U        U        U       U       U       U       U       U        U         U       U      U       U       U
  expired       U      U     U     U      U       U        U        U       U       U       U       U       U        U         U       U      U       U       U
  revoked       U      U     U     U      U       U        U        U       U       U       U       U       U        U         U       U      U       U       U
  disabled      U      U     U     U      U       U        U        U       U       U       U       U       U        U         U       U      U       U       U
  robot-a       A      D     A     D      A       D        A        D       A       D       A       D       D        D         D       D      D       D       D
  robot-pull    D      D     D     D      D       D        D        D       A       D       A       D       D        D         D       D      D       D       D
  robot-vera    D      D     D     D      D       D        D        D       D       D       D       D       D        D         D       D      D       D       D
`;

const [HEADER = [], ...ROWS] = EXPECTED.trim()
  .split("\n")
  .map((line) => line.trim().split(/\s+/));
const CALLERS = ROWS.map(([name]) => name!);

function expectedRow(name: string): Record<string, Outcome> {
  const outcomes = ROWS.find(([caller]) => caller === name)!.slice(1) as Outcome[];
  return Object.fromEntries(HEADER.slice(1).map((column, i) => [column, outcomes[i]!]));
}

/** An Outcome, or what went wrong instead (shown in the failing row). */
function outcomeOf(err: unknown): string {
  if (err instanceof HttpRefusal) return err.status === 401 ? "U" : err.status === 403 ? "D" : `${err.status}: ${err.message}`;
  const code = err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined;
  if (code === "UNAUTHORIZED") return "U";
  if (code === "FORBIDDEN") return "D";
  return `unexpected error: ${(err as Error).message}`;
}

const lastAuditId = async () => (await server.services.db.auditEvent.aggregate({ _max: { id: true } }))._max.id ?? 0n;

/** Runs every operation as `name`; returns the outcomes and whatever is wrong with the audit of refusals. */
async function runRow(name: string) {
  const caller = callers[name]!;
  const api = apiClient(server.url, caller.token);
  const row: Record<string, string> = {};
  const auditProblems: string[] = [];
  for (const [column, op] of Object.entries(OPS)) {
    const n = ++cell;
    const mark = await lastAuditId();
    let message = "";
    try {
      await op.run(api, caller, n);
      row[column] = "A";
    } catch (err) {
      row[column] = outcomeOf(err);
      message = (err as Error).message;
    }
    const denials = await server.services.db.auditEvent.findMany({ where: { id: { gt: mark }, result: "denied" } });
    const where = `${name} / ${column}`;
    if (row[column] === "A") {
      if (denials.length) auditProblems.push(`${where}: allowed, yet ${denials.length} denial(s) audited`);
      continue;
    }
    const [event, ...more] = denials;
    if (!event || more.length) {
      auditProblems.push(`${where}: expected one denied event, found ${denials.length}`);
      continue;
    }
    const reason = row[column] === "U" ? caller.authFailure : message;
    const details = event.details as { robot?: { createdBy?: string } };
    if (event.action !== op.audit) auditProblems.push(`${where}: audited action ${event.action}, expected ${op.audit}`);
    if (event.actorName !== caller.auditName)
      auditProblems.push(`${where}: audited actor ${event.actorName}, expected ${caller.auditName}`);
    if (!reason || event.error !== reason) auditProblems.push(`${where}: audited reason "${event.error}", expected "${reason}"`);
    if (caller.robotOf && details.robot?.createdBy !== caller.robotOf) auditProblems.push(`${where}: robot's creator not audited`);
    // A load refused before its archive is read names no targets yet (details.source names the upload).
    const untargeted = op.audit === "image.load" && (event.targets as unknown[]).length === 0 && "source" in (event.details as object);
    if (/-[ab]$/.test(column) && !untargeted && !JSON.stringify(event.targets).includes(column.endsWith("a") ? "team-a" : "team-b")) {
      auditProblems.push(`${where}: the target is not audited (${JSON.stringify(event.targets)})`);
    }
  }
  return { row, auditProblems };
}

async function person(username: string, role: string): Promise<string> {
  await server.services.db.user.create({ data: { username, role, passwordHash: await hashPassword(PASSWORD) } });
  return server.token(username, PASSWORD);
}

beforeAll(async () => {
  server = await bootTestServer();
  const adminToken = await server.token();
  admin = apiClient(server.url, adminToken);
  expect((await uploadArchive(server.url, adminToken, await tinyArchive([SOURCE]))).status).toBe(200);
  archives["team-a"] = await tinyArchive(["team-a/loaded:1"], "a");
  archives["team-b"] = await tinyArchive(["team-b/loaded:1"], "b");

  const tokens = {
    vera: await person("vera", "viewer"),
    gina: await person("gina", "viewer"),
    dev: await person("dev", "developer"),
    mona: await person("mona", "developer"),
    max: await person("max", "maintainer"),
    gone: await person("gone", "developer"),
  };
  await admin.users.setGrant.mutate({ username: "gina", namespace: "team-a", role: "developer" });
  await admin.users.setGrant.mutate({ username: "mona", namespace: "team-a", role: "maintainer" });
  for (const [name, token] of Object.entries(tokens)) callers[name] = { token, auditName: name, owner: name };
  callers.admin = { token: adminToken, auditName: "admin", owner: "admin" };
  callers.anonymous = { token: undefined, auditName: "anonymous", owner: "admin", authFailure: "not signed in" };

  const expired = await server.token("dev", PASSWORD);
  await server.services.db.apiToken.update({ where: { tokenHash: hashSecret(expired) }, data: { expiresAt: new Date(Date.now() - 1000) } });
  callers.expired = { token: expired, auditName: "anonymous", owner: "dev", authFailure: "token expired" };

  const revoked = await server.token("dev", PASSWORD);
  const revokedRow = await server.services.db.apiToken.findUniqueOrThrow({ where: { tokenHash: hashSecret(revoked) } });
  await apiClient(server.url, tokens.dev).tokens.revoke.mutate({ id: revokedRow.id });
  callers.revoked = { token: revoked, auditName: "anonymous", owner: "dev", authFailure: "token revoked" };

  await admin.users.disable.mutate({ username: "gone" });
  callers.disabled = { token: tokens.gone, auditName: "anonymous", owner: "gone", authFailure: "account disabled" };

  const robots = [
    { owner: "admin", api: admin, name: "robot-a", namespaces: ["team-a"], actions: ["read", "pull", "push", "tag", "remove", "load"] },
    { owner: "dev", api: apiClient(server.url, tokens.dev), name: "robot-pull", namespaces: ["team-a"], actions: ["pull", "push"] },
    {
      owner: "vera",
      api: apiClient(server.url, tokens.vera),
      name: "robot-vera",
      namespaces: ["*"],
      actions: ["read", "pull", "push", "tag", "remove", "load"],
    },
  ] as const;
  for (const r of robots) {
    const created = await r.api.tokens.createRobot.mutate({ name: r.name, namespaces: [...r.namespaces], actions: [...r.actions] });
    callers[r.name] = { token: created.token, auditName: `robot:${r.name}`, owner: r.owner, robotOf: r.owner };
  }
}, 180_000);

afterAll(async () => server?.close());

describe("every mutation × every kind of caller", () => {
  it("covers every operation", () => {
    expect(HEADER.slice(1)).toEqual(Object.keys(OPS));
  });

  it.each(CALLERS)("%s: allowed or refused as the model says, every refusal audited", async (name) => {
    const { row, auditProblems } = await runRow(name);
    expect(row).toEqual(expectedRow(name));
    expect(auditProblems).toEqual([]);
  });
});

describe("the reasons given", () => {
  const reason = async (name: string, run: (api: Api) => Promise<unknown>) => {
    const err = await run(apiClient(server.url, callers[name]!.token)).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    return err?.message;
  };

  it("name the role needed and the namespace, or the robot's scope", async () => {
    const tagB = (api: Api) => api.images.tag.mutate({ source: SOURCE, target: "team-b/app:why" });
    expect(await reason("gina", tagB)).toBe('tagging in namespace "team-b" needs the developer role (you are viewer there)');
    expect(await reason("dev", (api) => api.images.prune.mutate({}))).toBe("pruning needs the maintainer role (you are developer)");
    expect(await reason("max", (api) => api.registries.save.mutate({ domain: "why.example.com" }))).toBe("only an admin can do this");
    expect(await reason("robot-a", tagB)).toBe(
      'robot token "robot-a" is limited to namespaces "team-a": tagging in namespace "team-b" is outside its scope',
    );
    expect(await reason("robot-pull", (api) => api.images.tag.mutate({ source: SOURCE, target: "team-a/app:why" }))).toBe(
      'robot token "robot-pull" is not scoped for tagging (its actions: pull, push)',
    );
    expect(await reason("robot-vera", (api) => api.jobs.pull.mutate({ ref: `${REGISTRY}/team-a/app:why` }))).toBe(
      'robot token "robot-vera" acts for vera: pulling in namespace "team-a" needs the developer role (vera is viewer there)',
    );
    expect(await reason("robot-a", (api) => api.tokens.create.mutate({ name: "more" }))).toBe(
      'robot token "robot-a" cannot manage accounts or tokens',
    );
    expect(await reason("expired", (api) => api.images.list.query())).toBe("sign in first (token expired)");
    expect(await reason("revoked", (api) => api.images.list.query())).toBe("sign in first (token revoked)");
    expect(await reason("anonymous", (api) => api.images.list.query())).toBe("sign in first");
    expect(
      await apiClient(server.url, "berth_unknown")
        .images.list.query()
        .catch((e: Error) => e.message),
    ).toBe("sign in first (unknown token)");
  });

  it("auth.can explains without refusing; auth.me summarises what the caller may do", async () => {
    const gina = apiClient(server.url, callers.gina!.token);
    expect(await gina.auth.can.query({ action: "tag", ref: "team-b/app:1" })).toEqual({
      action: "tag",
      namespace: "team-b",
      allowed: false,
      reason: 'tagging in namespace "team-b" needs the developer role (you are viewer there)',
    });
    expect(await gina.auth.can.query({ action: "push", ref: "localhost:5000/team-a/app" })).toMatchObject({
      namespace: "team-a",
      allowed: true,
    });
    const me = await gina.auth.me.query();
    expect(me).toMatchObject({
      username: "gina",
      role: "viewer",
      permissions: { grants: [{ namespace: "team-a", role: "developer" }], robot: null },
    });
    expect(me?.permissions.somewhere).toMatchObject({ tag: true, remove: false, prune: false, users: false });

    const robot = await apiClient(server.url, callers["robot-pull"]!.token).auth.me.query();
    expect(robot?.permissions.robot).toEqual({ name: "robot-pull", namespaces: ["team-a"], actions: ["pull", "push"] });
    expect(await apiClient(server.url).auth.can.query({ action: "read" })).toMatchObject({ allowed: false, reason: "not signed in" });
  });
});

describe("reads and resolution", () => {
  it("a robot without `read` cannot list (audited); a caller who is not signed in reading is refused, not audited", async () => {
    const mark = await lastAuditId();
    await expect(apiClient(server.url, callers["robot-pull"]!.token).images.list.query()).rejects.toThrow(/not scoped for reading/);
    await expect(apiClient(server.url).images.list.query()).rejects.toThrow(/sign in first/);
    const events = await server.services.db.auditEvent.findMany({ where: { id: { gt: mark } } });
    expect(events.map((e) => [e.actorName, e.action, e.result])).toEqual([["robot:robot-pull", "images.list", "denied"]]);
    expect((await apiClient(server.url, callers["robot-a"]!.token).images.list.query()).length).toBeGreaterThan(0);
  });

  it("removing by image ID needs `remove` in every namespace the image is tagged in", async () => {
    const mona = apiClient(server.url, callers.mona!.token);
    expect(
      (await uploadArchive(server.url, callers.admin!.token!, await tinyArchive(["team-a/byid:1", "team-b/byid:1"], "byid"))).status,
    ).toBe(200);
    const [image] = await admin.images.list.query({ filters: { reference: ["team-a/byid"] } });
    const id = image!.id.toString();
    await expect(mona.images.remove.mutate({ refs: [id], force: true })).rejects.toThrow(
      'removing tags and images in namespace "team-b" needs the maintainer role (you are developer there)',
    );
    const denied = await server.services.db.auditEvent.findFirstOrThrow({
      where: { result: "denied", action: "image.remove" },
      orderBy: { id: "desc" },
    });
    expect(denied.targets).toEqual(
      expect.arrayContaining([expect.objectContaining({ ref: "team-a/byid:1" }), expect.objectContaining({ ref: "team-b/byid:1" })]),
    );

    await admin.images.remove.mutate({ refs: ["team-b/byid:1"] });
    const removed = await mona.images.remove.mutate({ refs: [id] });
    expect(removed.results[0]?.error).toBeUndefined();
  });

  it("a load whose archive names a namespace the caller may not load into keeps nothing", async () => {
    const gina = callers.gina!.token!;
    const before = await server.services.db.image.count();
    const res = await uploadArchive(server.url, gina, await tinyArchive(["team-a/mixed:1", "team-b/mixed:1"], "mixed"));
    expect(res).toMatchObject({
      status: 403,
      body: { error: 'loading in namespace "team-b" needs the developer role (you are viewer there)' },
    });
    expect(await server.services.db.image.count()).toBe(before);
  });
});
