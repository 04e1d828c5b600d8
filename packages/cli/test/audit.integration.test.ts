/**
 * `berth audit` against a real server: filters, export to a file and to stdout, export-and-archive,
 * offline verification of the archive (and of an edited one), and `audit verify` before and after
 * a privileged session alters an event behind the triggers' back.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "@berth/api/testing";
import { berthAgainst, tempDir } from "./helpers";

let server: TestServer;
let dir: string;

const berth = (argv: string[], stdin = "") => berthAgainst(server, dir, argv, stdin);

beforeAll(async () => {
  server = await bootTestServer();
  dir = await tempDir();
  const login = await berth(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`);
  expect(login.code).toBe(0);
  // A few events: a failed tag (no such image) and a prune.
  await berth(["tag", "nope:1", "team-a/app:v1"]);
  await berth(["image", "prune", "-f"]);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("berth audit", () => {
  it("filters the log with docker-style --filter keys", async () => {
    const r = await berth(["audit", "--format", "json", "--filter", "person=admin", "--filter", "result=failed"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { action: string; targets: { ref: string }[] });
    expect(events.map((e) => e.action)).toEqual(["image.tag"]);
    const ns = await berth(["audit", "--format", "json", "--filter", "namespace=team-a"]);
    expect(ns.stdout.trim().split("\n")).toHaveLength(1);
    const bad = await berth(["audit", "--filter", "digest=abc"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('Error response from daemon: invalid digest filter "abc": a digest prefix needs at least 12 hex characters\n');
    const unknown = await berth(["audit", "--filter", "colour=red"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/invalid filter 'colour'/);
  });

  it("exports CSV to a file and JSON Lines to stdout", async () => {
    const csv = await berth(["audit", "export", "--format", "csv", "--filter", "action=image.*", "-o", "out.csv"]);
    expect(csv).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const lines = (await readFile(join(dir, "out.csv"), "utf8")).trim().split("\n");
    expect(lines[0]).toBe("id,at,actorName,action,result,error,interface,ip,userAgent,targets,details,hash");
    expect(lines.slice(1).map((l) => l.split(",")[3])).toEqual(["image.prune", "image.tag"]);

    const jsonl = await berth(["audit", "export", "--format", "jsonl", "--filter", "person=admin"]);
    expect(jsonl.code).toBe(0);
    const actions = jsonl.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { action: string }).action);
    expect(actions).toEqual(expect.arrayContaining(["image.prune", "image.tag", "token.create"]));
    const bad = await berth(["audit", "export", "--format", "xml"]);
    expect(bad.code).toBe(125);
  });

  it("archives a range, verifies the file offline, and finds an edited line", async () => {
    const r = await berth(["audit", "archive", "--from", "1h", "-o", "archive.jsonl"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [summary, sha, recorded] = r.stdout.trim().split("\n");
    expect(summary).toMatch(/^Archived \d+ events \(ids \d+–\d+\) to archive\.jsonl$/);
    expect(sha).toMatch(/^sha256: [0-9a-f]{64}$/);
    expect(recorded).toMatch(/^Recorded as audit event \d+ \(audit\.archive by admin\)$/);

    const ok = await berth(["audit", "verify", "--archive", "archive.jsonl"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^archive OK: \d+ events \(ids \d+–\d+\)\nfirst prev_hash: none \(the start of the log\)\nlast hash: [0-9a-f]{64}\n/,
    );
    expect(ok.stdout).toContain(`file sha256: ${sha!.slice("sha256: ".length)}`);

    const text = await readFile(join(dir, "archive.jsonl"), "utf8");
    const lines = text.split("\n");
    const victim = lines.findIndex((l) => l.includes('"action": "image.tag"'));
    lines[victim] = lines[victim]!.replace('"actor_name": "admin"', '"actor_name": "mallory"');
    await writeFile(join(dir, "edited.jsonl"), lines.join("\n"));
    const id = (JSON.parse(lines[victim]) as { id: number }).id;
    const broken = await berth(["audit", "verify", "--archive", "edited.jsonl"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toBe(
      `archive broken at line ${victim + 1} (event ${id}): hash does not match the event's contents: the event was altered\n${victim} events before it verified\n`,
    );
    const missing = await berth(["audit", "verify", "--archive", "nope.jsonl"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Error: cannot read nope\.jsonl: /);
  });

  it("re-walks the chain on the server, and reports the event a privileged session altered", async () => {
    const ok = await berth(["audit", "verify"]);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toMatch(/^audit chain OK: \d+ events\n$/);
    expect(ok.code).toBe(0);

    const [victim] = await server.services.db.$queryRaw<{ id: bigint }[]>`SELECT id FROM audit_events WHERE action = 'image.prune'`;
    await server.services.db.$transaction([
      server.services.db.$executeRawUnsafe("ALTER TABLE audit_events DISABLE TRIGGER USER"),
      server.services.db.$executeRaw`UPDATE audit_events SET result = 'failed' WHERE id = ${victim!.id}`,
      server.services.db.$executeRawUnsafe("ALTER TABLE audit_events ENABLE TRIGGER USER"),
    ]);
    const broken = await berth(["audit", "verify"]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe("");
    expect(broken.stderr).toBe(
      `audit chain broken at event ${victim!.id}: hash does not match the event's contents: the event was altered\n`,
    );
  });
});
