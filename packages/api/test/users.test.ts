/**
 * People and tokens as an admin manages them: one-time invitations, disabling (sessions and
 * tokens stop at once), password resets, the last-admin guard, grants and roles with before/after
 * in the audit, and robot tokens (shown once, scoped, listed with their last use, revocable).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient } from "./client";

let server: TestServer;
let admin: ReturnType<typeof apiClient>;

beforeAll(async () => {
  server = await bootTestServer();
  admin = apiClient(server.url, await server.token());
});
afterAll(async () => server?.close());

const secretOf = (path: string) => path.replace(/^\/invite\//, "");

async function signIn(username: string, password: string) {
  const res = await fetch(`${server.url}/api/auth/sign-in`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, cookie: (res.headers.get("set-cookie") ?? "").split(";")[0]! };
}

async function meWithCookie(cookie: string) {
  const res = await fetch(`${server.url}/api/trpc/auth.me`, { headers: { cookie } });
  return ((await res.json()) as { result: { data: { username: string } | null } }).result.data;
}

const lastEvent = (action: string, result = "ok") =>
  server.services.db.auditEvent.findFirstOrThrow({ where: { action, result }, orderBy: { id: "desc" } });
/** What the audit log says, as text (ids are BigInt). */
const auditText = async () => JSON.stringify((await server.services.db.auditEvent.findMany()).map((e) => [e.error, e.targets, e.details]));

describe("invitations", () => {
  it("a one-time link creates the account with the invited role, once", async () => {
    const invite = await admin.users.invite.mutate({ role: "developer", email: "ada@example.com" });
    expect(invite.path).toMatch(/^\/invite\/[A-Za-z0-9_-]{40,}$/);
    const secret = secretOf(invite.path);
    const anonymous = apiClient(server.url);
    expect(await anonymous.users.inviteInfo.query({ secret })).toMatchObject({ role: "developer", email: "ada@example.com" });

    expect(await anonymous.users.acceptInvite.mutate({ secret, username: "ada", password: "ada-password-1" })).toEqual({
      username: "ada",
      role: "developer",
    });
    expect((await signIn("ada", "ada-password-1")).status).toBe(200);
    await expect(anonymous.users.acceptInvite.mutate({ secret, username: "ada2", password: "ada-password-1" })).rejects.toThrow(
      "this invitation link was used already: ask an admin for a new one",
    );
    expect(await server.services.db.user.findUnique({ where: { username: "ada2" } })).toBeNull();

    const accepted = await lastEvent("user.invite-accept");
    expect(accepted).toMatchObject({ actorName: "ada", result: "ok", details: { role: "developer", invitedBy: "admin" } });
    const again = await server.services.db.auditEvent.findFirstOrThrow({ where: { action: "user.invite-accept", result: "denied" } });
    expect(again).toMatchObject({ actorName: "ada2", error: "this invitation link was used already: ask an admin for a new one" });
    // The secret is never stored or audited, only its hash.
    expect(await auditText()).not.toContain(secret);
    expect(await server.services.db.invite.count({ where: { secretHash: secret } })).toBe(0);

    const listed = await admin.users.invites.query();
    expect(listed.find((i) => i.id === invite.id)).toMatchObject({ state: "used", usedBy: "ada", createdBy: "admin" });
  });

  it("an expired link, a wrong username, a withdrawn link and a bad password are refused clearly", async () => {
    const anonymous = apiClient(server.url);
    const expiring = await admin.users.invite.mutate({ role: "viewer" });
    await server.services.db.invite.update({ where: { id: expiring.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await expect(
      anonymous.users.acceptInvite.mutate({ secret: secretOf(expiring.path), username: "late", password: "late-password" }),
    ).rejects.toThrow(/^this invitation link expired on .*: ask an admin for a new one$/);

    const named = await admin.users.invite.mutate({ role: "viewer", username: "bob" });
    await expect(
      anonymous.users.acceptInvite.mutate({ secret: secretOf(named.path), username: "robert", password: "bob-password-1" }),
    ).rejects.toThrow("this invitation is for the username bob");
    await expect(anonymous.users.acceptInvite.mutate({ secret: secretOf(named.path), username: "bob", password: "short" })).rejects.toThrow(
      /at least 8 characters/,
    );
    await expect(admin.users.invite.mutate({ role: "viewer", username: "ada" })).rejects.toThrow("username ada is taken");

    await admin.users.revokeInvite.mutate({ id: named.id });
    await expect(anonymous.users.inviteInfo.query({ secret: secretOf(named.path) })).rejects.toThrow(/not valid/);
    await expect(
      anonymous.users.acceptInvite.mutate({ secret: "not-a-real-secret", username: "eve", password: "eve-password" }),
    ).rejects.toThrow(/not valid/);
  });
});

describe("disabling, enabling and resetting passwords", () => {
  it("a disabled person's session, tokens and robots stop working at once; enabling restores the tokens", async () => {
    const invite = await admin.users.invite.mutate({ role: "developer", username: "carl" });
    await apiClient(server.url).users.acceptInvite.mutate({ secret: secretOf(invite.path), username: "carl", password: "carl-password" });
    const { cookie } = await signIn("carl", "carl-password");
    const token = await server.token("carl", "carl-password");
    const robot = await apiClient(server.url, token).tokens.createRobot.mutate({ name: "carl-ci", namespaces: ["*"], actions: ["read"] });
    expect((await meWithCookie(cookie))?.username).toBe("carl");

    expect(await admin.users.disable.mutate({ username: "carl" })).toMatchObject({ username: "carl", sessionsEnded: 1 });
    expect(await meWithCookie(cookie)).toBeNull();
    await expect(apiClient(server.url, token).images.list.query()).rejects.toThrow("sign in first (account disabled)");
    await expect(apiClient(server.url, robot.token).images.list.query()).rejects.toThrow("sign in first (account disabled)");
    expect((await signIn("carl", "carl-password")).status).toBe(401);
    expect(await lastEvent("user.disable")).toMatchObject({
      actorName: "admin",
      targets: [{ ref: "user:carl" }],
      details: { before: { disabledAt: null } },
    });

    await admin.users.enable.mutate({ username: "carl" });
    expect((await apiClient(server.url, token).auth.me.query())?.username).toBe("carl");
    expect((await apiClient(server.url, robot.token).images.list.query()).length).toBeGreaterThanOrEqual(0);
  });

  it("a reset password ends the person's sessions; the temporary password is returned once and works", async () => {
    const invite = await admin.users.invite.mutate({ role: "viewer", username: "dora" });
    await apiClient(server.url).users.acceptInvite.mutate({ secret: secretOf(invite.path), username: "dora", password: "dora-password" });
    const { cookie } = await signIn("dora", "dora-password");

    const reset = await admin.users.resetPassword.mutate({ username: "dora" });
    expect(reset).toMatchObject({ username: "dora", sessionsEnded: 1 });
    expect(reset.temporaryPassword).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await meWithCookie(cookie)).toBeNull();
    expect((await signIn("dora", "dora-password")).status).toBe(401);
    expect((await signIn("dora", reset.temporaryPassword!)).status).toBe(200);

    await admin.users.resetPassword.mutate({ username: "dora", password: "chosen-password" });
    expect((await signIn("dora", "chosen-password")).status).toBe(200);
    const event = await lastEvent("user.password-reset");
    expect(event.details).toMatchObject({ before: { password: "***" }, after: { password: "***" }, temporary: false });
    expect(await auditText()).not.toContain("chosen-password");
    expect(await auditText()).not.toContain(reset.temporaryPassword!);
  });
});

describe("roles, grants and the last admin", () => {
  it("records role and grant changes with before and after", async () => {
    await admin.users.setRole.mutate({ username: "ada", role: "maintainer" });
    expect((await lastEvent("user.role")).details).toEqual({ before: { role: "developer" }, after: { role: "maintainer" } });

    await admin.users.setGrant.mutate({ username: "dora", namespace: "team-a", role: "developer" });
    await admin.users.setGrant.mutate({ username: "dora", namespace: "team-a", role: "maintainer" });
    expect((await lastEvent("grant.set")).details).toEqual({
      namespace: "team-a",
      before: { role: "developer" },
      after: { role: "maintainer" },
    });
    expect(await admin.users.grants.query({ username: "dora" })).toMatchObject([
      { username: "dora", namespace: "team-a", role: "maintainer" },
    ]);
    expect((await admin.users.list.query()).find((u) => u.username === "dora")?.grants).toEqual([
      { namespace: "team-a", role: "maintainer" },
    ]);

    await admin.users.removeGrant.mutate({ username: "dora", namespace: "team-a" });
    expect((await lastEvent("grant.remove")).details).toEqual({
      namespace: "team-a",
      before: { role: "maintainer" },
      after: { role: null },
    });
    await expect(admin.users.removeGrant.mutate({ username: "dora", namespace: "team-a" })).rejects.toThrow(
      'dora has no grant in namespace "team-a"',
    );
    await expect(admin.users.setGrant.mutate({ username: "dora", namespace: "Team A", role: "developer" })).rejects.toThrow(
      /not a namespace/,
    );
    await expect(admin.users.setGrant.mutate({ username: "dora", namespace: "team-a", role: "admin" as "maintainer" })).rejects.toThrow(
      /admin is only a default role/,
    );
    await expect(admin.users.setRole.mutate({ username: "nobody", role: "viewer" })).rejects.toThrow("no such user: nobody");
  });

  it("never leaves Berth without an enabled admin, and nobody disables themselves", async () => {
    await expect(admin.users.setRole.mutate({ username: "admin", role: "viewer" })).rejects.toThrow(
      "admin is the last admin: make someone else admin before you change their role",
    );
    await expect(admin.users.disable.mutate({ username: "admin" })).rejects.toThrow("you cannot disable your own account");

    await admin.users.setRole.mutate({ username: "ada", role: "admin" });
    const ada = apiClient(server.url, await server.token("ada", "ada-password-1"));
    await ada.users.setRole.mutate({ username: "admin", role: "viewer" });
    await expect(ada.users.setRole.mutate({ username: "ada", role: "developer" })).rejects.toThrow(/ada is the last admin/);
    expect((await server.services.db.user.findUniqueOrThrow({ where: { username: "ada" } })).role).toBe("admin");
    const refused = await lastEvent("user.role", "failed");
    expect(refused).toMatchObject({ actorName: "ada", result: "failed", error: expect.stringMatching(/last admin/) as unknown });
    await ada.users.setRole.mutate({ username: "admin", role: "admin" });
  });
});

describe("robot tokens", () => {
  it("are shown once, listed with kind, scope, owner and last use, and revocable", async () => {
    const created = await admin.tokens.createRobot.mutate({
      name: "ci-deploy",
      namespaces: ["team-a", "team-b", "team-a"],
      actions: ["push", "pull"],
      expiresInDays: 30,
    });
    expect(created).toMatchObject({ kind: "robot", namespaces: ["team-a", "team-b"], actions: ["pull", "push"], warnings: [] });
    expect(created.token).toMatch(/^berth_/);
    const robot = apiClient(server.url, created.token);
    await robot.jobs.list.query().catch(() => undefined);

    const row = (await admin.tokens.list.query()).find((t) => t.id === created.id)!;
    expect(row).toMatchObject({
      kind: "robot",
      owner: "admin",
      namespaces: ["team-a", "team-b"],
      actions: ["pull", "push"],
      state: "active",
    });
    expect(row.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(await admin.tokens.list.query())).not.toContain(created.token);
    expect((await lastEvent("token.create")).details).toMatchObject({
      kind: "robot",
      namespaces: ["team-a", "team-b"],
      actions: ["pull", "push"],
    });

    await expect(admin.tokens.createRobot.mutate({ name: "ci-deploy", namespaces: ["*"], actions: ["read"] })).rejects.toThrow(
      'a robot token named "ci-deploy" exists already: revoke it first or choose another name',
    );
    await admin.tokens.revoke.mutate({ id: created.id });
    expect((await admin.tokens.list.query()).find((t) => t.id === created.id)?.state).toBe("revoked");
    await expect(robot.jobs.list.query()).rejects.toThrow("sign in first (token revoked)");
    expect((await lastEvent("token.revoke")).targets).toEqual([{ ref: "robot:ci-deploy", digestBefore: null, digestAfter: null }]);
    // Its name is free again once it is revoked.
    await admin.tokens.createRobot.mutate({ name: "ci-deploy", namespaces: ["*"], actions: ["read"] });
  });

  it("refuse a bad scope with a message naming it, and warn when the owner cannot do what the scope says", async () => {
    await expect(admin.tokens.createRobot.mutate({ name: "x", namespaces: ["*", "team-a"], actions: ["read"] })).rejects.toThrow(
      /already means every namespace: give it alone/,
    );
    await expect(admin.tokens.createRobot.mutate({ name: "x", namespaces: ["team-a"], actions: ["prune" as "read"] })).rejects.toThrow(
      /prune.{0,4} is not an action a robot token can have/,
    );
    await expect(admin.tokens.createRobot.mutate({ name: "Bad Name", namespaces: ["team-a"], actions: ["read"] })).rejects.toThrow(
      /is not a valid robot token name/,
    );
    const dora = apiClient(server.url, await server.token("dora", "chosen-password"));
    const weak = await dora.tokens.createRobot.mutate({ name: "dora-bot", namespaces: ["team-c"], actions: ["read", "push"] });
    expect(weak.warnings).toEqual([
      'pushing in namespace "team-c" needs the developer role (you are viewer there): this robot may not push in "team-c" either for now',
    ]);
  });
});
