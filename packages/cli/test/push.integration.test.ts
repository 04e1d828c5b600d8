/**
 * `berth push` against a real server and an empty CNCF registry: docker's progress lines,
 * `-a`, a second push that finds every layer, and docker's messages for what cannot be pushed.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "@berth/api/testing";
import { fixtures } from "@berth/fixtures";
import { startRegistry, type ExtraRegistry } from "../../engine/test/registry-helpers";
import { berthAgainst, tempDir } from "./helpers";

const fx = fixtures();
let server: TestServer;
let registry: ExtraRegistry;
let storage: string;
let dir: string;

const berth = (argv: string[], stdin = "") => berthAgainst(server, dir, argv, stdin);
const DIGEST_LINE = /^(\S+): digest: (sha256:[a-f0-9]{64}) size: \d+$/;

beforeAll(async () => {
  storage = await mkdtemp(join(tmpdir(), "berth-cli-push-"));
  [server, registry] = await Promise.all([bootTestServer(), startRegistry(storage, "")]);
  dir = await tempDir();
  await berth(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`);
  const load = await berth(["load", "-i", join(fx.archives, "all.tar")]);
  expect(load.code).toBe(0);
  await berth(["tag", "fixtures/app:1.0", `${registry.host}/team/app:1.0`]);
  await berth(["tag", "fixtures/app:2.0", `${registry.host}/team/app:2.0`]);
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  await server?.close();
  await rm(storage, { recursive: true, force: true });
});

function inspectDigest(ref: string): string {
  const policy = join(fx.out, ".cache/policy.json");
  const out = execFileSync("skopeo", ["--policy", policy, "inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" });
  return (JSON.parse(out) as { Digest: string }).Digest;
}

describe("berth push", () => {
  it("pushes a tag and prints docker's progress, ending with the digest line", async () => {
    const ref = `${registry.host}/team/app:1.0`;
    const r = await berth(["push", ref]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`The push refers to repository [${registry.host}/team/app]`);
    const ids = fx.image("fixtures/app:1.0").layers.map((l) => l.diffID.slice(7, 19));
    for (const id of ids) expect(lines).toContain(`${id}: Pushed`);
    const last = DIGEST_LINE.exec(lines.at(-1)!);
    expect(last?.[1]).toBe("1.0");
    expect(inspectDigest(ref)).toBe(last?.[2]);
  });

  it("image push -a pushes every tag; layers the registry has are reported as existing", async () => {
    const r = await berth(["image", "push", "-a", `${registry.host}/team/app`]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.filter((l) => DIGEST_LINE.test(l)).map((l) => DIGEST_LINE.exec(l)![1])).toEqual(["1.0", "2.0"]);
    const base = fx.image("fixtures/base:1.0").layers[0]!.diffID.slice(7, 19);
    expect(lines).toContain(`${base}: Layer already exists`);
    const a2 = fx.image("fixtures/app:2.0").layers[1]!.diffID.slice(7, 19);
    expect(lines).toContain(`${a2}: Pushed`);
    expect(inspectDigest(`${registry.host}/team/app:2.0`)).toBe(DIGEST_LINE.exec(lines.at(-1)!)![2]);
  });

  it("-q prints nothing on success", async () => {
    const r = await berth(["push", "-q", `${registry.host}/team/app:1.0`]);
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("names what cannot be pushed as docker does", async () => {
    const missing = await berth(["push", `${registry.host}/team/nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("Using default tag: latest\n");
    expect(missing.stderr).toBe(`Error response from daemon: An image does not exist locally with the tag: ${registry.host}/team/nope\n`);

    const tagged = await berth(["push", "-a", `${registry.host}/team/app:1.0`]);
    expect(tagged.code).toBe(1);
    expect(tagged.stderr).toMatch(/tag can't be used with --all-tags\/-a/);

    const bad = await berth(["push", "Team/App"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid reference format/);

    const none = await berth(["push"]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/requires 1 argument|requires exactly 1 argument/);
  });
});
