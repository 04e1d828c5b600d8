import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveDatabase, startEmbeddedPostgres } from "../src/index";
import { withPg } from "./helpers";

// These start their own servers: embedded PostgreSQL is what they test.
describe("embedded PostgreSQL", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-embedded-"));
    await chmod(dir, 0o755); // reachable by the `postgres` user when we run as root
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps its data across restarts and recovers from a stale postmaster.pid", { timeout: 120_000 }, async () => {
    const dataDir = join(dir, "pg");
    const first = await startEmbeddedPostgres({ dataDir });
    let pidFile: string;
    try {
      expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/berth$/);
      await withPg(first.url, async (c) => {
        await c.query("CREATE TABLE kept (v text)");
        await c.query("INSERT INTO kept VALUES ('still here')");
      });
      pidFile = await readFile(join(dataDir, "postmaster.pid"), "utf8");
    } finally {
      await first.stop();
    }

    // A crashed run leaves postmaster.pid behind, and its PID may since belong to another process.
    const squatter = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const [, ...rest] = pidFile.split("\n");
      await writeFile(join(dataDir, "postmaster.pid"), [String(squatter.pid), ...rest].join("\n"));

      const second = await startEmbeddedPostgres({ dataDir });
      try {
        expect(second.port).not.toBe(first.port);
        const { rows } = await withPg(second.url, (c) => c.query("SELECT v FROM kept"));
        expect(rows).toEqual([{ v: "still here" }]);
        // Another start on the same live directory is refused with a clear message.
        await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/already running/);
      } finally {
        await second.stop();
      }
    } finally {
      squatter.kill();
    }
  });

  it("restarts after the server was killed, and stop() does not hang on a dead server", { timeout: 120_000 }, async () => {
    const dataDir = join(dir, "crash");
    const first = await startEmbeddedPostgres({ dataDir });
    await withPg(first.url, (c) => c.query("CREATE TABLE survived AS SELECT 42 AS v"));
    const pid = Number((await readFile(join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
    process.kill(pid, "SIGKILL"); // the postmaster this test started
    await new Promise((resolve) => setTimeout(resolve, 500));
    await first.stop(); // resolves although no exit event will come any more

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      const { rows } = await withPg(second.url, (c) => c.query("SELECT v FROM survived"));
      expect(rows).toEqual([{ v: 42 }]);
    } finally {
      await second.stop();
    }
  });

  it("resolveDatabase prefers DATABASE_URL and otherwise runs under <dataDir>/postgres", { timeout: 120_000 }, async () => {
    const given = await resolveDatabase({
      dataDir: dir,
      databaseUrl: "postgres://u@db.example/berth",
    });
    expect(given).toMatchObject({ url: "postgres://u@db.example/berth", embedded: false });
    await given.stop();

    const embedded = await resolveDatabase({ dataDir: dir });
    try {
      expect(embedded.embedded).toBe(true);
      const { rows } = await withPg(embedded.url, (c) => c.query("SELECT current_database() AS db"));
      expect(rows).toEqual([{ db: "berth" }]);
      expect(await readFile(join(dir, "postgres", "PG_VERSION"), "utf8")).toMatch(/^\d+/);
    } finally {
      await embedded.stop();
    }
  });
});
