/** `berth search` against a real Berth server and a real CNCF registry (searched through its catalog). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "@berth/api/testing";
import { startUpstream, type Upstream } from "../../engine/test/registry-helpers";
import { berthAgainst, tempDir } from "./helpers";

let server: TestServer;
let upstream: Upstream;
let dir: string;

const berth = (argv: string[], stdin = "") => berthAgainst(server, dir, argv, stdin);

beforeAll(async () => {
  [server, upstream] = await Promise.all([bootTestServer(), startUpstream()]);
  dir = await tempDir();
  const login = await berth(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`);
  expect(login.code).toBe(0);
}, 180_000);

afterAll(async () => {
  await server?.close();
  upstream?.stop();
});

describe("berth search against a real server and registry", () => {
  it("lists the registry's matching repositories in docker's table", async () => {
    const r = await berth(["search", `${upstream.host}/fixtures`]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const [header, ...lines] = r.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL$/);
    const names = lines.map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(expect.arrayContaining(["fixtures/app", "fixtures/base"]));
    for (const line of lines) expect(line).toMatch(/^fixtures\/\S+\s+0\s*$/);

    const one = await berth(["search", "--limit", "1", "--format", "{{.Name}} {{.StarCount}}", `${upstream.host}/app`]);
    expect(one.stdout).toBe("fixtures/app 0\n");
  });

  it("reports docker's errors for a bad limit or filter, and an unreachable registry", async () => {
    const limit = await berth(["search", "--limit", "101", `${upstream.host}/app`]);
    expect(limit).toMatchObject({ code: 1, stderr: "Error response from daemon: limit 101 is outside the range of [1, 100]\n" });
    const filter = await berth(["search", "--filter", "is-official=maybe", `${upstream.host}/app`]);
    expect(filter.stderr).toBe("Error response from daemon: invalid filter 'is-official=maybe'\n");
    const official = await berth(["search", "--filter", "is-official=true", `${upstream.host}/app`]);
    expect(official.stdout).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\n$/);
    const gone = await berth(["search", "127.0.0.1:1/app"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^Error response from daemon: .*127\.0\.0\.1:1/);
  });
});
