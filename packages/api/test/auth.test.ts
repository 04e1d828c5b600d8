import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient } from "./client";

let server: TestServer;

beforeAll(async () => {
  server = await bootTestServer();
});
afterAll(async () => server?.close());

async function signIn(username: string, password: string) {
  return fetch(`${server.url}/api/auth/sign-in`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "test-browser" },
    body: JSON.stringify({ username, password }),
  });
}

describe("people, sessions and tokens", () => {
  it("signs in with a session cookie that the API accepts, and signs out", async () => {
    const res = await signIn("admin", server.adminPassword);
    expect(res.status).toBe(200);
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/berth_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
    const session = cookie.split(";")[0]!;
    const me = await fetch(`${server.url}/api/trpc/auth.me`, { headers: { cookie: session } });
    expect(((await me.json()) as { result: { data: { username: string } } }).result.data.username).toBe("admin");

    const out = await fetch(`${server.url}/api/auth/sign-out`, { method: "POST", headers: { cookie: session } });
    expect(out.status).toBe(200);
    const after = await fetch(`${server.url}/api/trpc/images.list`, { headers: { cookie: session } });
    expect(after.status).toBe(401);
  });

  it("refuses a wrong password without saying which part was wrong, and audits the attempt", async () => {
    const wrong = await signIn("admin", "not-the-password");
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: "incorrect username or password" });
    const nobody = await signIn("mallory", "whatever");
    expect(await nobody.json()).toEqual({ error: "incorrect username or password" });

    const api = apiClient(server.url, await server.token());
    const { events } = await api.audit.list.query({ action: "auth.sign-in", limit: 10 });
    const denied = events.filter((e) => e.result === "denied").map((e) => e.actorName);
    expect(denied).toEqual(["mallory", "admin"]);
    expect(events.find((e) => e.result === "ok")?.userAgent).toBe("test-browser");
  });

  it("creates a token shown once, lists it without the secret, and a revoked token stops working", async () => {
    const api = apiClient(server.url, await server.token());
    const created = await api.tokens.create.mutate({ name: "ci", expiresInDays: 30 });
    expect(created.token).toMatch(/^berth_/);
    const listed = await api.tokens.list.query();
    const row = listed.find((t) => t.id === created.id)!;
    expect(row.name).toBe("ci");
    expect(JSON.stringify(listed)).not.toContain(created.token);

    const viaToken = apiClient(server.url, created.token);
    expect((await viaToken.auth.me.query())?.username).toBe("admin");
    expect((await api.tokens.list.query()).find((t) => t.id === created.id)?.lastUsedAt).not.toBeNull();
    await api.tokens.revoke.mutate({ id: created.id });
    await expect(viaToken.images.list.query({ all: false, filters: {} })).rejects.toThrow(/sign in/);
    const { events } = await api.audit.list.query({ limit: 20 });
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["token.create", "token.revoke"]));
  });

  it("keeps a token's last use to the minute: written on first use and again once a minute has passed", async () => {
    const api = apiClient(server.url, await server.token());
    const created = await api.tokens.create.mutate({ name: "ci-minute" });
    const viaToken = apiClient(server.url, created.token);
    const lastUsed = async () => (await server.services.db.apiToken.findUniqueOrThrow({ where: { id: created.id } })).lastUsedAt;
    expect(await lastUsed()).toBeNull();
    await viaToken.auth.me.query();
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await viaToken.auth.me.query();
    expect(await lastUsed()).toEqual(first);

    const earlier = new Date(Date.now() - 90_000);
    await server.services.db.apiToken.update({ where: { id: created.id }, data: { lastUsedAt: earlier } });
    await viaToken.auth.me.query();
    expect((await lastUsed())!.getTime()).toBeGreaterThan(earlier.getTime() + 60_000);
  });

  it("changes a password: the old one stops working, other sessions end, the attempt with a wrong one is denied", async () => {
    // docker login and every pull ask the registry's token server with the password, over and over.
    const registryLogin = (password: string) =>
      fetch(`${server.url}/v2/token?service=berth`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` },
      }).then((r) => r.status);
    for (let i = 0; i < 3; i++) expect(await registryLogin(server.adminPassword)).toBe(200);
    expect(await registryLogin("wrong-password")).toBe(401);
    const first = await signIn("admin", server.adminPassword);
    const other = (first.headers.get("set-cookie") ?? "").split(";")[0]!;
    const api = apiClient(server.url, await server.token());
    await expect(api.auth.changePassword.mutate({ currentPassword: "wrong-password", newPassword: "new-password-1" })).rejects.toThrow(
      "the current password is not correct",
    );
    await expect(api.auth.changePassword.mutate({ currentPassword: server.adminPassword, newPassword: "short" })).rejects.toThrow(
      /at least 8/,
    );
    await api.auth.changePassword.mutate({ currentPassword: server.adminPassword, newPassword: "new-password-1" });
    expect((await signIn("admin", server.adminPassword)).status).toBe(401);
    expect((await signIn("admin", "new-password-1")).status).toBe(200);
    expect(await registryLogin(server.adminPassword)).toBe(401);
    expect(await registryLogin("new-password-1")).toBe(200);
    expect(
      (
        (await fetch(`${server.url}/api/trpc/auth.me`, { headers: { cookie: other } }).then((r) => r.json())) as {
          result: { data: unknown };
        }
      ).result.data,
    ).toBeNull();
    const { events } = await api.audit.list.query({ action: "user.password-change", limit: 5 });
    expect(events.map((e) => e.result)).toEqual(["ok", "denied"]);
    await api.auth.changePassword.mutate({ currentPassword: "new-password-1", newPassword: server.adminPassword });
  });

  it("answers bad references and unknown images with docker's errors", async () => {
    const api = apiClient(server.url, await server.token());
    await expect(api.images.tag.mutate({ source: "nope:1", target: "x:y" })).rejects.toThrow("No such image: nope:1");
    const inspected = await api.images.inspect.query({ refs: ["nope"] });
    expect(inspected.missing).toEqual(["nope"]);
    const res = await fetch(`${server.url}/api/images/save?ref=UPPER:tag`, {
      headers: { authorization: `Bearer ${await server.token()}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/invalid reference format/);
  });
});

describe("input validation", () => {
  it("answers 400 with the field's message, not a server error", async () => {
    const res = await fetch(`${server.url}/api/trpc/tokens.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await server.token()}` },
      body: JSON.stringify({ name: "" }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("a token needs a name");
  });
});
