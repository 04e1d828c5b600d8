/**
 * The CLI against a real Berth server (real PostgreSQL via @berth/api/testing): login, the
 * image verbs on an empty store, error paths, and the audit trail the CLI leaves.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "@berth/api/testing";
import { createApi } from "../src/api";
import { berthAgainst, tempDir } from "./helpers";

let server: TestServer;
let dir: string;

const berth = (argv: string[], stdin = "") => berthAgainst(server, dir, argv, stdin);

beforeAll(async () => {
  server = await bootTestServer();
  dir = await tempDir();
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("berth CLI against a real server", () => {
  it("refuses without a login", async () => {
    const r = await berth(["images"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error response from daemon: .*berth login/);
  });

  it("logs in, stores the token 0600 and lists images", async () => {
    const bad = await berth(["login", server.url, "-u", "admin", "--password-stdin"], "wrong\n");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("Error response from daemon: incorrect username or password\n");

    const r = await berth(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Login Succeeded\n");
    const path = join(dir, "config.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ url: server.url });

    const images = await berth(["images"]);
    expect(images).toMatchObject({ code: 0, stderr: "" });
    expect(images.stdout.split("\n")[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  });

  it("reports unknown images like docker", async () => {
    const inspect = await berth(["inspect", "nope:1"]);
    expect(inspect).toMatchObject({ code: 1, stdout: "[]\n", stderr: "Error: No such object: nope:1\n" });
    const rmi = await berth(["rmi", "nope:1"]);
    expect(rmi.code).toBe(1);
    expect(rmi.stderr).toMatch(/^Error response from daemon: .*nope/);
    const tag = await berth(["tag", "nope:1", "other:2"]);
    expect(tag.code).toBe(1);
    expect(tag.stderr).toMatch(/^Error response from daemon: /);
  });

  it("prune -f, system df and the audit log", async () => {
    const prune = await berth(["image", "prune", "-f"]);
    expect(prune).toMatchObject({ code: 0, stdout: "Total reclaimed space: 0B\n" });
    const df = await berth(["system", "df"]);
    expect(df.stdout).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+0\s+0\s+0B\s+0B\n$/);
    const audit = await berth(["audit", "--format", "json", "--filter", "actor=admin"]);
    expect(audit.code).toBe(0);
    const events = audit.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { action: string; interface: string });
    expect(events.some((e) => e.action === "token.create" && e.interface === "cli")).toBe(true);
  });

  it("logout revokes the token", async () => {
    const token = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as { token: string };
    const r = await berth(["logout"]);
    expect(r.stdout).toBe(`Removing login credentials for ${server.url}\n`);
    await expect(createApi({ url: server.url, token: token.token }).listImages({ all: false, filters: {} })).rejects.toThrow();
  });
});
