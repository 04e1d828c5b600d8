import { describe, expect, it, vi } from "vitest";
import { DaemonError } from "../src/errors";
import type { PeopleApi, TokenRow, UserRow } from "../src/people-api";
import { fakeApi, runCli } from "./helpers";

const NOW = new Date("2024-01-08T00:00:00Z");
const DAY = 86_400_000;

function withPeople(overrides: Partial<PeopleApi>) {
  const api = fakeApi();
  return fakeApi({ people: { ...api.people, ...overrides } });
}

const user = (over: Partial<UserRow>): UserRow => ({
  id: "00000000-0000-4000-8000-000000000001",
  username: "ada",
  role: "developer",
  disabledAt: null,
  createdAt: new Date(NOW.getTime() - 7 * DAY),
  grants: [],
  lastActiveAt: null,
  ...over,
});

const token = (over: Partial<TokenRow>): TokenRow => ({
  id: "1a2b3c4d-0000-4000-8000-000000000001",
  name: "laptop",
  kind: "personal",
  namespaces: [],
  actions: [],
  tokenPrefix: "berth_abcdef",
  owner: "ada",
  createdAt: new Date(NOW.getTime() - DAY),
  lastUsedAt: null,
  expiresAt: null,
  revokedAt: null,
  state: "active",
  ...over,
});

describe("user", () => {
  it("ls prints role, grants, status and last activity", async () => {
    const users = vi.fn().mockResolvedValue([
      user({ username: "admin", role: "admin", lastActiveAt: new Date(NOW.getTime() - 3_600_000) }),
      user({
        grants: [
          { namespace: "team-a", role: "maintainer" },
          { namespace: "team-b", role: "developer" },
        ],
      }),
      user({ username: "gone", role: "viewer", disabledAt: new Date(NOW.getTime() - DAY) }),
    ]);
    const r = await runCli(["user", "ls"], { api: withPeople({ users }), now: NOW });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "USERNAME   ROLE        GRANTS                               STATUS     LAST ACTIVE         CREATED",
      "admin      admin       -                                    active     About an hour ago   7 days ago",
      "ada        developer   team-a=maintainer,team-b=developer   active     never               7 days ago",
      "gone       viewer      -                                    disabled   never               7 days ago",
      "",
    ]);
  });

  it("invite prints the link on stdout and what it does on stderr", async () => {
    const invite = vi.fn().mockResolvedValue({
      id: "x",
      role: "developer",
      username: "bob",
      email: null,
      expiresAt: new Date(NOW.getTime() + 7 * DAY),
      path: "/invite/s3cret",
    });
    const r = await runCli(["user", "invite", "--role", "developer", "--username", "bob"], { api: withPeople({ invite }), now: NOW });
    expect(invite).toHaveBeenCalledWith({ role: "developer", username: "bob" });
    expect([r.code, r.stdout, r.stderr]).toEqual([
      0,
      "http://berth.test/invite/s3cret\n",
      "Invitation for bob as developer: the link works once and expires in 7 days.\n",
    ]);
    const bad = await runCli(["user", "invite", "--role", "owner"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/Allowed choices are viewer, developer, maintainer, admin/);
  });

  it("disable goes on after a refusal and exits 1; reset-password prints the temporary password once", async () => {
    const disable = vi
      .fn()
      .mockImplementation((name: string) =>
        name === "admin" ? Promise.reject(new DaemonError("you cannot disable your own account")) : Promise.resolve(),
      );
    const r = await runCli(["user", "disable", "admin", "ada"], { api: withPeople({ disable }) });
    expect([r.code, r.stdout, r.stderr]).toEqual([1, "ada\n", "Error response from daemon: you cannot disable your own account\n"]);

    const resetPassword = vi.fn().mockResolvedValue({ username: "ada", temporaryPassword: "Tmp-pass-123456", sessionsEnded: 2 });
    const reset = await runCli(["user", "reset-password", "ada"], { api: withPeople({ resetPassword }) });
    expect(resetPassword).toHaveBeenCalledWith({ username: "ada" });
    expect(reset.stdout).toBe("Tmp-pass-123456\n");
    expect(reset.stderr).toMatch(/shown once/);

    const chosen = vi.fn().mockResolvedValue({ username: "ada", temporaryPassword: null, sessionsEnded: 0 });
    await runCli(["user", "reset-password", "ada", "--password-stdin"], {
      api: withPeople({ resetPassword: chosen }),
      stdin: "new-password\n",
    });
    expect(chosen).toHaveBeenCalledWith({ username: "ada", password: "new-password" });
  });

  it("role, grant and revoke-grant say what changed; a bad role is refused before asking", async () => {
    const setRole = vi.fn().mockResolvedValue({ username: "ada", role: "maintainer", previousRole: "developer" });
    expect((await runCli(["user", "role", "ada", "maintainer"], { api: withPeople({ setRole }) })).stdout).toBe(
      "ada: developer -> maintainer\n",
    );
    const setGrant = vi.fn().mockResolvedValue({ username: "ada", namespace: "team-a", role: "maintainer", previousRole: null });
    expect((await runCli(["user", "grant", "ada", "team-a", "maintainer"], { api: withPeople({ setGrant }) })).stdout).toBe(
      "ada: maintainer in team-a\n",
    );
    const removeGrant = vi.fn().mockResolvedValue(undefined);
    expect((await runCli(["user", "revoke-grant", "ada", "team-a"], { api: withPeople({ removeGrant }) })).stdout).toBe(
      "ada: no grant in team-a\n",
    );
    const bad = await runCli(["user", "grant", "ada", "team-a", "admin"]);
    expect([bad.code, bad.stderr]).toEqual([1, 'Error: "admin" is not a role a grant can give (one of developer, maintainer)\n']);
  });
});

describe("token", () => {
  it("ls shows kind, scope, last use (to the minute, as the server keeps it), expiry and status", async () => {
    const tokens = vi.fn().mockResolvedValue([
      token({}),
      token({
        id: "9f8e7d6c-0000-4000-8000-000000000002",
        name: "ci",
        kind: "robot",
        namespaces: ["team-a"],
        actions: ["pull", "push"],
        lastUsedAt: new Date(NOW.getTime() - 120_000),
        expiresAt: new Date(NOW.getTime() + 30 * DAY),
      }),
      token({
        id: "00000000-0000-4000-8000-000000000003",
        name: "old",
        lastUsedAt: new Date(NOW.getTime() - 20_000),
        revokedAt: NOW,
        state: "revoked",
      }),
    ]);
    const r = await runCli(["token", "ls"], { api: withPeople({ tokens }), now: NOW });
    expect(tokens).toHaveBeenCalledWith(false);
    expect(r.stdout.split("\n")).toEqual([
      "ID         NAME      KIND       SCOPE               CREATED        LAST USED         EXPIRES      STATUS",
      "1a2b3c4d   laptop    personal   -                   24 hours ago   never             never        active",
      "9f8e7d6c   ci        robot      team-a: pull,push   24 hours ago   2 minutes ago     in 4 weeks   active",
      "00000000   old       personal   -                   24 hours ago   within a minute   never        revoked",
      "",
    ]);
    await runCli(["token", "ls", "--all"], { api: withPeople({ tokens }), now: NOW });
    expect(tokens).toHaveBeenLastCalledWith(true);
  });

  it("create prints only the secret; a robot needs namespaces and actions", async () => {
    const createRobot = vi.fn().mockResolvedValue({ token: "berth_robot", warnings: ["you may not push in team-b"] });
    const r = await runCli(["token", "create", "ci", "--robot", "--namespace", "team-a,team-b", "--action", "pull", "--action", "push"], {
      api: withPeople({ createRobot }),
    });
    expect(createRobot).toHaveBeenCalledWith({ name: "ci", namespaces: ["team-a", "team-b"], actions: ["pull", "push"] });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "berth_robot\n", "WARNING! you may not push in team-b\n"]);

    const createToken = vi.fn().mockResolvedValue({ token: "berth_personal" });
    expect((await runCli(["token", "create", "laptop", "--expires-in-days", "30"], { api: withPeople({ createToken }) })).stdout).toBe(
      "berth_personal\n",
    );
    expect(createToken).toHaveBeenCalledWith({ name: "laptop", expiresInDays: 30 });

    expect((await runCli(["token", "create", "ci", "--robot", "--action", "pull"])).stderr).toBe(
      'Error: a robot token needs --namespace (repeatable; "*" for every namespace)\n',
    );
    expect((await runCli(["token", "create", "ci", "--namespace", "team-a"])).stderr).toBe(
      "Error: --namespace and --action are for robot tokens: add --robot\n",
    );
    expect((await runCli(["token", "create", "ci", "--robot", "--namespace", "*", "--action", "prune"])).stderr).toBe(
      'Error: "prune" is not an action a robot token can have (one of read, pull, push, tag, remove, load)\n',
    );
  });

  it("revoke takes a name or an ID", async () => {
    const tokens = vi.fn().mockResolvedValue([token({}), token({ id: "9f8e7d6c-0000-4000-8000-000000000002", name: "ci", kind: "robot" })]);
    const revokeToken = vi.fn().mockResolvedValue(undefined);
    const r = await runCli(["token", "revoke", "ci", "1a2b3c4d", "nope"], { api: withPeople({ tokens, revokeToken }) });
    expect(revokeToken.mock.calls).toEqual([["9f8e7d6c-0000-4000-8000-000000000002"], ["1a2b3c4d-0000-4000-8000-000000000001"]]);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, "ci\n1a2b3c4d\n", "Error: no such token: nope\n"]);
  });
});
