import { describe, expect, it, vi } from "vitest";
import { DaemonError } from "../src/errors";
import type { ProtectionApi } from "../src/protection-api";
import { fakeApi, runCli } from "./helpers";

const ID = `sha256:${"c3".repeat(32)}`;
const rule = (namespace: string, pattern: string, createdBy = "lead") => ({
  id: "00000000-0000-4000-8000-000000000001",
  namespace,
  pattern,
  createdBy,
  createdAt: new Date("2024-01-07T00:00:00Z"),
});

function withProtection(overrides: Partial<ProtectionApi>) {
  const api = fakeApi();
  return fakeApi({ protection: { ...api.protection, ...overrides } });
}

describe("protect", () => {
  it("ls prints a table (or JSON), optionally for one namespace", async () => {
    const rules = vi.fn().mockResolvedValue([rule("team-a", "release-*"), rule("team-a", "v*.*.*", "admin")]);
    const r = await runCli(["protect", "ls", "team-a"], { api: withProtection({ rules }) });
    expect(rules).toHaveBeenCalledWith("team-a");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "NAMESPACE   PATTERN     CREATED BY   CREATED",
      "team-a      release-*   lead         24 hours ago",
      "team-a      v*.*.*      admin        24 hours ago",
      "",
    ]);
    const json = await runCli(["protect", "ls", "--format", "json"], { api: withProtection({ rules }) });
    expect(rules).toHaveBeenLastCalledWith(undefined);
    expect((JSON.parse(json.stdout) as { pattern: string }[]).map((x) => x.pattern)).toEqual(["release-*", "v*.*.*"]);
  });

  it("add and rm send the namespace and pattern and say what changed", async () => {
    const add = vi.fn().mockResolvedValue(rule("team-a", "release-*"));
    const remove = vi.fn().mockResolvedValue(rule("team-a", "release-*"));
    const added = await runCli(["protect", "add", "team-a", "release-*"], { api: withProtection({ add }) });
    expect(add).toHaveBeenCalledWith({ namespace: "team-a", pattern: "release-*" });
    expect([added.code, added.stdout, added.stderr]).toEqual([0, "Protected: team-a release-*\n", ""]);
    const removed = await runCli(["protect", "rm", "team-a", "release-*"], { api: withProtection({ remove }) });
    expect(remove).toHaveBeenCalledWith({ namespace: "team-a", pattern: "release-*" });
    expect(removed.stdout).toBe("Unprotected: team-a release-*\n");
  });

  it("a refusal is the server's message, exit 1; a missing pattern is a usage error", async () => {
    const add = vi.fn().mockRejectedValue(new DaemonError('changing tag protection in namespace "team-a" needs the maintainer role'));
    const r = await runCli(["protect", "add", "team-a", "release-*"], { api: withProtection({ add }) });
    expect(r).toMatchObject({
      code: 1,
      stderr: 'Error response from daemon: changing tag protection in namespace "team-a" needs the maintainer role\n',
    });
    const usage = await runCli(["protect", "add", "team-a"]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/^berth: 'berth protect add' requires 2 arguments/);
  });
});

describe("pin and unpin", () => {
  it("print the image ID", async () => {
    const pin = vi.fn().mockResolvedValue({ id: ID, pinned: true, before: false });
    const unpin = vi.fn().mockResolvedValue({ id: ID, pinned: false, before: true });
    const r = await runCli(["pin", "team-a/app:1"], { api: withProtection({ pin }) });
    expect(pin).toHaveBeenCalledWith("team-a/app:1");
    expect([r.code, r.stdout]).toEqual([0, `Pinned: ${ID}\n`]);
    expect((await runCli(["unpin", ID], { api: withProtection({ unpin }) })).stdout).toBe(`Unpinned: ${ID}\n`);
  });
});

describe("image prune and pinned images", () => {
  it("lists the images it kept, and why", async () => {
    const prune = vi.fn().mockResolvedValue({ deleted: [], untagged: [], skipped: [{ id: ID, reason: "pinned" }], spaceReclaimed: 0 });
    const r = await runCli(["image", "prune", "-f"], { api: fakeApi({ prune }) });
    expect(r.stdout).toBe(`Kept Images:\nkept: ${ID} (pinned)\n\nTotal reclaimed space: 0B\n`);
    const dry = await runCli(["image", "prune", "--dry-run"], { api: fakeApi({ prune }) });
    expect(dry.stdout).toBe(`Would keep images:\nkept: ${ID} (pinned)\n\nTotal reclaimable space: 0B\n`);
  });
});
