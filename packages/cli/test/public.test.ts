import { describe, expect, it, vi } from "vitest";
import { DaemonError } from "../src/errors";
import type { PublicNamespacesApi } from "../src/public-api";
import { fakeApi, runCli } from "./helpers";

const row = (namespace: string, setBy = "admin") => ({ namespace, setBy, setAt: new Date("2024-01-07T00:00:00Z") });

function withPublic(overrides: Partial<PublicNamespacesApi>) {
  const api = fakeApi();
  return fakeApi({ publicNamespaces: { ...api.publicNamespaces, ...overrides } });
}

describe("public", () => {
  it("ls prints a table (or JSON)", async () => {
    const list = vi.fn().mockResolvedValue([row("library"), row("team-a", "root")]);
    const r = await runCli(["public", "ls"], { api: withPublic({ list }) });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "NAMESPACE   SET BY    SINCE",
      "library     admin     24 hours ago",
      "team-a      root      24 hours ago",
      "",
    ]);
    const json = await runCli(["public", "ls", "--format", "json"], { api: withPublic({ list }) });
    expect((JSON.parse(json.stdout) as { namespace: string }[]).map((x) => x.namespace)).toEqual(["library", "team-a"]);
  });

  it("add and rm send the namespace and say what changed", async () => {
    const add = vi.fn().mockResolvedValue(row("team-a"));
    const remove = vi.fn().mockResolvedValue(row("team-a"));
    const added = await runCli(["public", "add", "team-a"], { api: withPublic({ add }) });
    expect(add).toHaveBeenCalledWith("team-a");
    expect([added.code, added.stdout, added.stderr]).toEqual([0, "Public: team-a\n", ""]);
    const removed = await runCli(["public", "rm", "team-a"], { api: withPublic({ remove }) });
    expect(remove).toHaveBeenCalledWith("team-a");
    expect(removed.stdout).toBe("Private: team-a\n");
  });

  it("a refusal is the server's message, exit 1; a missing namespace is a usage error", async () => {
    const add = vi.fn().mockRejectedValue(new DaemonError("only an admin can do this"));
    expect(await runCli(["public", "add", "team-a"], { api: withPublic({ add }) })).toMatchObject({
      code: 1,
      stderr: "Error response from daemon: only an admin can do this\n",
    });
    const usage = await runCli(["public", "add"]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/^berth: 'berth public add' requires 1 argument/);
  });
});
