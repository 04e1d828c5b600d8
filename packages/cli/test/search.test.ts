import { describe, expect, it } from "vitest";
import type { BerthApi, SearchRow } from "../src/api";
import { DaemonError } from "../src/errors";
import { fakeApi, runCli } from "./helpers";

const row = (over: Partial<SearchRow>): SearchRow => ({
  name: "redis",
  description: "Redis is the world’s fastest data platform for caching, vector search, and NoSQL databases.",
  starCount: 13_000,
  isOfficial: true,
  isAutomated: false,
  tags: null,
  ref: "redis",
  inStore: false,
  ...over,
});

const ROWS = [
  row({}),
  row({ name: "bitnami/redis", description: "Bitnami Redis\r\nimage", starCount: 300, isOfficial: false, ref: "bitnami/redis" }),
];

function searching(rows: SearchRow[] = ROWS) {
  const calls: Parameters<BerthApi["searchRemote"]>[0][] = [];
  const api = fakeApi({
    searchRemote: (input) => {
      calls.push(input);
      return Promise.resolve(rows);
    },
  });
  return { api, calls };
}

describe("search", () => {
  it("prints docker's table: NAME DESCRIPTION STARS OFFICIAL, descriptions cut at 45 characters", async () => {
    const { api, calls } = searching();
    const r = await runCli(["search", "redis"], { api });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(calls).toEqual([{ term: "redis", filters: {} }]);
    expect(r.stdout).toBe(
      [
        "NAME            DESCRIPTION                                     STARS     OFFICIAL",
        "redis           Redis is the world’s fastest data platform f…   13000     [OK]",
        "bitnami/redis   Bitnami Redis  image                            300       ",
        "",
      ].join("\n"),
    );
  });

  it("--no-trunc shows whole descriptions", async () => {
    const { api } = searching();
    const r = await runCli(["search", "--no-trunc", "redis"], { api });
    expect(r.stdout).toContain(ROWS[0]!.description);
  });

  it("passes --limit and --filter to the server", async () => {
    const { api, calls } = searching();
    await runCli(["search", "--limit", "5", "--filter", "stars=3", "-f", "is-official=true", "127.0.0.1:5000/app"], { api });
    expect(calls).toEqual([{ term: "127.0.0.1:5000/app", limit: 5, filters: { stars: ["3"], "is-official": ["true"] } }]);
  });

  it("--format takes Go templates with docker's fields, and docker's table directive", async () => {
    const { api } = searching();
    const plain = await runCli(["search", "--format", "{{.Name}}|{{.StarCount}}|{{.IsOfficial}}|{{.IsAutomated}}", "redis"], { api });
    expect(plain.stdout).toBe("redis|13000|[OK]|\nbitnami/redis|300||\n");
    const table = await runCli(["search", "--format", "table {{.Name}}\\t{{.IsAutomated}}", "redis"], { api });
    expect(table.stdout.split("\n")[0]).toMatch(/^NAME\s+AUTOMATED$/);
    const desc = await runCli(["search", "--format", "{{.Description}}", "redis"], { api });
    expect(desc.stdout.split("\n")[0]).toBe("Redis is the world’s fastest data platform f…");
    const bad = await runCli(["search", "--format", "{{.Stars}}", "redis"], { api });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/can't evaluate field Stars in type \*registry\.searchContext/);
  });

  it("an empty result prints the header only", async () => {
    const { api } = searching([]);
    const r = await runCli(["search", "nothing"], { api });
    expect(r.stdout).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\n$/);
  });

  it("rejects a non-numeric --limit like docker's flag parser (exit 125)", async () => {
    const r = await runCli(["search", "--limit", "ten", "redis"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`invalid argument "ten" for "--limit" flag: strconv.ParseInt: parsing "ten": invalid syntax`);
    expect(r.stderr).toContain("Usage:  berth search [OPTIONS] TERM");
  });

  it("needs exactly one TERM", async () => {
    const none = await runCli(["search"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("berth: 'berth search' requires 1 argument");
    expect((await runCli(["search", "a", "b"])).stderr).toContain("berth: 'berth search' requires 1 argument");
  });

  it("prints the server's refusal of a limit or filter as docker does", async () => {
    const api = fakeApi({
      searchRemote: () => Promise.reject(new DaemonError("limit 101 is outside the range of [1, 100]", "BAD_REQUEST")),
    });
    const r = await runCli(["search", "--limit", "101", "redis"], { api });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error response from daemon: limit 101 is outside the range of [1, 100]\n");
  });
});
