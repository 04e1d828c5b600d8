/**
 * The docker verbs on real images: `load -i` a docker save archive made by skopeo, list,
 * inspect with a Go template, history, tag, rmi, `save -o`, and skopeo reading the result.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "@berth/api/testing";
import { fixtures } from "@berth/fixtures";
import { berthAgainst, tempDir } from "./helpers";

const fx = fixtures();
let server: TestServer;
let dir: string;

const berth = (argv: string[], stdin = "") => berthAgainst(server, dir, argv, stdin);

beforeAll(async () => {
  server = await bootTestServer();
  dir = await tempDir();
  await berth(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`);
}, 120_000);
afterAll(async () => server?.close());

describe("berth with real archives", () => {
  it("loads, lists, inspects and shows history like docker", async () => {
    const load = await berth(["load", "-i", join(fx.archives, "all.tar")]);
    expect(load).toMatchObject({ code: 0, stderr: "" });
    expect(load.stdout.split("\n").filter(Boolean).sort()).toEqual([
      "Loaded image: fixtures/app:1.0",
      "Loaded image: fixtures/app:2.0",
      "Loaded image: fixtures/base:1.0",
    ]);

    const images = await berth(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    const app1 = fx.image("fixtures/app:1.0");
    expect(images.stdout).toContain(`fixtures/app:1.0 ${app1.configDigest.slice(7, 19)}`);

    const inspect = await berth(["inspect", "-f", "{{.Id}} {{.RootFS.Type}} {{len .RootFS.Layers}}", "fixtures/app:1.0"]);
    expect(inspect.stdout).toBe(`${app1.configDigest} layers ${app1.layers.length}\n`);

    const history = await berth(["history", "-q", "fixtures/app:1.0"]);
    expect(history.stdout.split("\n")[0]).toBe(app1.configDigest.slice(7, 19));
    expect(history.stdout).toContain("<missing>");
  });

  it("tags, removes and saves an archive skopeo accepts", async () => {
    expect((await berth(["tag", "fixtures/app:2.0", "team/app:stable"])).code).toBe(0);
    const out = join(dir, "stable.tar");
    const save = await berth(["save", "-o", out, "team/app:stable"]);
    expect(save).toMatchObject({ code: 0, stderr: "" });
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", `docker-archive:${out}`], { encoding: "utf8" })) as {
      Layers: string[];
    };
    expect(inspected.Layers).toEqual(fx.image("fixtures/app:2.0").layers.map((l) => l.diffID));

    const rmi = await berth(["rmi", "team/app:stable", "nope:404"]);
    expect(rmi.code).toBe(1);
    expect(rmi.stdout).toBe("Untagged: team/app:stable\n");
    expect(rmi.stderr).toMatch(/No such image: nope:404/);
  });

  it("a failed save leaves no file behind", async () => {
    const out = join(dir, "missing.tar");
    const save = await berth(["save", "-o", out, "does-not-exist:1"]);
    expect(save.code).toBe(1);
    expect(save.stderr).toMatch(/No such image: does-not-exist:1/);
    expect(existsSync(out)).toBe(false);
  });
});
