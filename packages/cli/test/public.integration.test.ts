/**
 * `berth public …` against a real server: an admin makes a namespace public and private again
 * (each change in the audit with before/after), a developer lists but may not change the list.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "@berth/api/testing";
import { adminAndDeveloper, type AdminAndDeveloper } from "./signed-in";

let server: TestServer;
let signedIn: AdminAndDeveloper;

const admin = (argv: string[], stdin = "") => signedIn.admin(argv, stdin);
const dev = (argv: string[], stdin = "") => signedIn.dev(argv, stdin);

beforeAll(async () => {
  signedIn = await adminAndDeveloper();
  server = signedIn.server;
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("berth public", () => {
  it("an admin makes a namespace public; everyone lists it; a developer may not change it", async () => {
    expect(await admin(["public", "add", "team-a"])).toMatchObject({ code: 0, stdout: "Public: team-a\n", stderr: "" });
    const ls = await dev(["public", "ls"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout.split("\n")[0]).toMatch(/^NAMESPACE\s+SET BY\s+SINCE$/);
    expect(ls.stdout.split("\n")[1]).toMatch(/^team-a\s+admin\s+/);
    const refused = await dev(["public", "rm", "team-a"]);
    expect(refused).toMatchObject({ code: 1, stderr: "Error response from daemon: only an admin can do this\n" });
    const invalid = await admin(["public", "add", "Team A"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/is not a namespace/);
  });

  it("an admin makes it private again; both changes are audited with before/after", async () => {
    expect(await admin(["public", "rm", "team-a"])).toMatchObject({ code: 0, stdout: "Private: team-a\n" });
    expect((await admin(["public", "ls", "--format", "json"])).stdout).toBe("[]\n");
    const events = await server.services.db.auditEvent.findMany({
      where: { action: { startsWith: "namespace.public." } },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => [e.action, e.result, e.actorName, e.interface])).toEqual([
      ["namespace.public.add", "ok", "admin", "cli"],
      ["namespace.public.remove", "denied", "dev", "cli"],
      ["namespace.public.remove", "ok", "admin", "cli"],
    ]);
    expect(events[0]!.details).toMatchObject({ before: { public: false }, after: { public: true, setBy: "admin" } });
    expect(events[2]!.details).toMatchObject({ before: { public: true, setBy: "admin" }, after: { public: false } });
  });
});
