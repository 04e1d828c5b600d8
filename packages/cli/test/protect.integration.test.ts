/**
 * `berth protect …`, `berth pin`/`unpin` against a real server: an admin protects a namespace's
 * tags, a developer's move is refused with the rule named, a pinned image survives rmi -f.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import type { TestServer } from "@berth/api/testing";
import { adminAndDeveloper, type AdminAndDeveloper } from "./signed-in";

const fx = fixtures();
let server: TestServer;
let signedIn: AdminAndDeveloper;

const admin = (argv: string[], stdin = "") => signedIn.admin(argv, stdin);
const dev = (argv: string[], stdin = "") => signedIn.dev(argv, stdin);

beforeAll(async () => {
  signedIn = await adminAndDeveloper();
  server = signedIn.server;
  expect((await admin(["load", "-i", join(fx.archives, "all.tar")])).code).toBe(0);
}, 180_000);

afterAll(async () => {
  await server?.close();
});

describe("berth protect and pin", () => {
  it("an admin adds a rule; everyone lists it; a developer may not change rules", async () => {
    expect(await admin(["protect", "add", "fixtures", "1.*"])).toMatchObject({ code: 0, stdout: "Protected: fixtures 1.*\n", stderr: "" });
    const ls = await dev(["protect", "ls"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout.split("\n")[1]).toMatch(/^fixtures\s+1\.\*\s+admin\s+/);
    const refused = await dev(["protect", "rm", "fixtures", "1.*"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^Error response from daemon: changing tag protection in namespace "fixtures" needs the maintainer role/,
    );
  });

  it("a developer cannot move a protected tag; the rule is named", async () => {
    const r = await dev(["tag", "fixtures/app:2.0", "fixtures/app:1.0"]);
    expect(r).toMatchObject({
      code: 1,
      stderr:
        'Error response from daemon: tag docker.io/fixtures/app:1.0 is protected by rule "1.*" in namespace fixtures; only an admin can move or remove it\n',
    });
    // A tag no rule matches still moves.
    expect((await dev(["tag", "fixtures/app:2.0", "fixtures/app:latest"])).code).toBe(0);
  });

  it("a pinned image survives rmi -f, even an admin's, until unpinned", async () => {
    const base = fx.image("fixtures/base:1.0").configDigest;
    expect(await admin(["pin", "fixtures/base:1.0"])).toMatchObject({ code: 0, stdout: `Pinned: ${base}\n` });
    const rmi = await admin(["rmi", "-f", "fixtures/base:1.0"]);
    expect(rmi.code).toBe(1);
    expect(rmi.stderr).toBe(
      `Error response from daemon: conflict: unable to delete ${base.slice(7, 19)} (cannot be forced) - image is pinned; unpin it first\n`,
    );
    expect(await admin(["unpin", base])).toMatchObject({ code: 0, stdout: `Unpinned: ${base}\n` });
    // The admin may remove the protected tag; the image goes with it.
    const gone = await admin(["rmi", "fixtures/base:1.0"]);
    expect(gone).toMatchObject({ code: 0, stdout: `Untagged: fixtures/base:1.0\nDeleted: ${base}\n` });
    expect(await admin(["protect", "rm", "fixtures", "1.*"])).toMatchObject({ code: 0, stdout: "Unprotected: fixtures 1.*\n" });
  });
});
