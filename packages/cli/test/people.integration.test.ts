/**
 * `berth user …` and `berth token …` against a real server: an admin invites a developer, grants
 * them a namespace, the developer makes a robot token, the admin disables and re-enables them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "@berth/api/testing";
import { berthAgainst, tempDir } from "./helpers";

let server: TestServer;
let adminDir: string;
let erinDir: string;
const admin = (argv: string[], stdin = "") => berthAgainst(server, adminDir, argv, stdin);
const erin = (argv: string[], stdin = "") => berthAgainst(server, erinDir, argv, stdin);

async function acceptInvite(url: string, username: string, password: string) {
  const secret = url.split("/invite/")[1];
  const res = await fetch(`${server.url}/api/trpc/users.acceptInvite`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ secret, username, password }),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  server = await bootTestServer();
  [adminDir, erinDir] = await Promise.all([tempDir(), tempDir()]);
  expect((await admin(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`)).code).toBe(0);
}, 180_000);

afterAll(async () => server?.close());

describe("berth user and berth token", () => {
  it("invite, grant, a robot token, disable and enable", async () => {
    const invite = await admin(["user", "invite", "--role", "developer", "--username", "erin"]);
    expect(invite).toMatchObject({ code: 0, stderr: "Invitation for erin as developer: the link works once and expires in 7 days.\n" });
    expect(invite.stdout).toMatch(new RegExp(`^${server.url}/invite/[A-Za-z0-9_-]+\\n$`));
    await acceptInvite(invite.stdout.trim(), "erin", "erin-password");

    expect((await admin(["user", "grant", "erin", "team-a", "maintainer"])).stdout).toBe("erin: maintainer in team-a\n");
    const ls = await admin(["user", "ls"]);
    expect(ls.stdout).toMatch(/\nerin\s+developer\s+team-a=maintainer\s+active\s+never\s+/);

    expect((await erin(["login", server.url, "-u", "erin", "--password-stdin"], "erin-password\n")).code).toBe(0);
    const robot = await erin(["token", "create", "erin-ci", "--robot", "--namespace", "team-a", "--action", "pull,push"]);
    expect(robot).toMatchObject({ code: 0, stderr: "" });
    expect(robot.stdout).toMatch(/^berth_\S+\n$/);
    const tokens = await erin(["token", "ls"]);
    expect(tokens.stdout).toMatch(/\n[0-9a-f]{8}\s+erin-ci\s+robot\s+team-a: pull,push\s+/);

    // A refusal is the server's reason, and it is audited under the caller's name.
    const refused = await erin(["user", "ls"]);
    expect(refused).toMatchObject({ code: 1, stderr: "Error response from daemon: only an admin can do this\n" });
    const audit = await admin(["audit", "--format", "json", "--filter", "actor=erin", "--limit", "1"]);
    expect(JSON.parse(audit.stdout)).toMatchObject({ action: "users.list", result: "denied", error: "only an admin can do this" });

    expect(await admin(["user", "disable", "erin"])).toMatchObject({ code: 0, stdout: "erin\n" });
    expect((await erin(["images"])).stderr).toBe("Error response from daemon: sign in first (account disabled)\n");
    const reset = await admin(["user", "reset-password", "erin"]);
    expect(reset.stdout).toMatch(/^\S{16}\n$/);
    expect((await admin(["user", "enable", "erin"])).stdout).toBe("erin\n");
    expect((await erin(["login", server.url, "-u", "erin", "--password-stdin"], reset.stdout)).code).toBe(0);

    expect((await erin(["token", "revoke", "erin-ci"])).stdout).toBe("erin-ci\n");
    expect((await erin(["token", "ls"])).stdout).toMatch(/erin-ci\s+robot\s+.*\s+revoked\n/);
    expect((await admin(["user", "role", "erin", "viewer"])).stdout).toBe("erin: developer -> viewer\n");
  });
});
