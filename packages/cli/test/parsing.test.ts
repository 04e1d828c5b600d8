import { describe, expect, it } from "vitest";
import { addFilter, parseDuration, parseFilter, parseTimeArg, rewriteBoolFlags } from "../src/commands/shared";
import { auditQuery } from "../src/commands/audit";
import { readEnv } from "../src/env";

describe("--filter", () => {
  it("splits on the first '=' and groups repeated keys", () => {
    expect(parseFilter("label=a=b")).toEqual(["label", "a=b"]);
    let f = addFilter({}, "dangling=true");
    f = addFilter(f, "label=x");
    f = addFilter(f, "label=y");
    expect(f).toEqual({ dangling: ["true"], label: ["x", "y"] });
  });
  it("refuses values without a name", () => {
    expect(() => parseFilter("dangling")).toThrow("bad format of filter (expected name=value)");
    expect(() => parseFilter("=x")).toThrow();
  });
});

describe("boolean flags with values", () => {
  it("rewrites -H=false / --human=true", () => {
    const flags = { "-H": "human", "--human": "human" };
    expect(rewriteBoolFlags(["history", "-H=false", "img"], flags)).toEqual(["history", "--no-human", "img"]);
    expect(rewriteBoolFlags(["--human=true", "-H", "--format=x"], flags)).toEqual(["--human", "-H", "--format=x"]);
  });
});

describe("times", () => {
  const now = new Date("2024-01-02T00:00:00Z");
  it("parses Go durations", () => {
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("2d")).toBe(172_800_000);
    expect(parseDuration("10")).toBeUndefined();
    expect(parseDuration("5x")).toBeUndefined();
  });
  it("accepts durations, unix timestamps and RFC 3339", () => {
    expect(parseTimeArg("24h", now)?.toISOString()).toBe("2024-01-01T00:00:00.000Z");
    expect(parseTimeArg("1704067200", now)?.toISOString()).toBe("2024-01-01T00:00:00.000Z");
    expect(parseTimeArg("2024-01-01T10:00:00Z", now)?.toISOString()).toBe("2024-01-01T10:00:00.000Z");
    expect(parseTimeArg("yesterday", now)).toBeUndefined();
  });
  it("builds the audit query and refuses unknown filters", () => {
    const q = auditQuery({ filter: { actor: ["alice"], repository: ["fixtures/app"] }, since: "1h" }, now);
    expect(q).toEqual({ person: "alice", repository: "fixtures/app", from: new Date("2024-01-01T23:00:00Z") });
    const all = auditQuery(
      {
        filter: {
          person: ["bob"],
          action: ["image.*"],
          namespace: ["team-a"],
          tag: ["v1.2"],
          digest: ["3f4a9c01b2d7"],
          result: ["denied"],
        },
        until: "2024-01-01",
      },
      now,
    );
    expect(all).toEqual({
      person: "bob",
      action: "image.*",
      namespace: "team-a",
      tag: "v1.2",
      digest: "3f4a9c01b2d7",
      result: "denied",
      to: new Date("2024-01-01T00:00:00Z"),
    });
    expect(() => auditQuery({ filter: { colour: ["red"] } }, now)).toThrow("invalid filter 'colour'");
    expect(() => auditQuery({ filter: { actor: ["a", "b"] } }, now)).toThrow("only once");
    expect(() => auditQuery({ filter: { actor: ["a"], person: ["b"] } }, now)).toThrow("filter 'person' can be given only once");
    expect(() => auditQuery({ filter: { result: ["maybe"] } }, now)).toThrow("invalid filter 'result=maybe' (use ok, denied, failed)");
    expect(() => auditQuery({ filter: {}, until: "soon" }, now)).toThrow("invalid value for --until");
  });
});

describe("environment", () => {
  it("reads BERTH_* and defaults the config path", () => {
    const env = readEnv({ BERTH_URL: "http://x:1", BERTH_TOKEN: "t", HOME: "/home/u" });
    const { variable, ...rest } = env;
    expect(rest).toEqual({ url: "http://x:1", token: "t", configPath: "/home/u/.config/berth/config.json", initCwd: undefined });
    // Other variables only by name (`build --build-arg NAME`).
    expect(variable?.("BERTH_TOKEN")).toBe("t");
    expect(variable?.("NOT_SET")).toBeUndefined();
    expect(readEnv({ BERTH_CONFIG: "/c.json", HOME: "/h" }).configPath).toBe("/c.json");
    expect(readEnv({ npm_lifecycle_event: "berth", INIT_CWD: "/repo", HOME: "/h" }).initCwd).toBe("/repo");
  });
  it("refuses a malformed BERTH_URL", () => {
    expect(() => readEnv({ BERTH_URL: "ftp://x" })).toThrow("http");
    expect(() => readEnv({ BERTH_URL: "not a url" })).toThrow("not a valid URL");
  });
});
