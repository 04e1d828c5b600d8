import { createHash } from "node:crypto";
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, MigrationError } from "../src/index";
import { MIGRATIONS_DIR } from "../src/migrate";
import { databaseUrl, startTestPostgres, withPg } from "./helpers";

const created: string[] = [];
let adminUrl: string;

async function emptyDatabase(): Promise<string> {
  const name = `berth_migrate_${process.pid}_${created.length}_${Date.now()}`;
  await withPg(adminUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  created.push(name);
  return databaseUrl(adminUrl, name);
}

beforeAll(async () => {
  ({ adminUrl } = await startTestPostgres());
});

afterAll(async () => {
  await withPg(adminUrl, async (c) => {
    for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
  });
});

async function migrationNames(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

describe("applyMigrations", () => {
  it("applies every migration once and records it as prisma migrate deploy does", async () => {
    const url = await emptyDatabase();
    const names = await migrationNames();
    expect(names.length).toBeGreaterThan(0);

    expect(await applyMigrations(url)).toEqual({ applied: names });
    expect(await applyMigrations(url)).toEqual({ applied: [] });

    const { rows } = await withPg(url, (c) =>
      c.query<{
        id: string;
        checksum: string;
        finished_at: Date | null;
        migration_name: string;
        logs: string | null;
        rolled_back_at: Date | null;
        started_at: Date;
        applied_steps_count: number;
      }>(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name`),
    );
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    for (const row of rows) {
      const file = await readFile(join(MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.checksum).toBe(createHash("sha256").update(file).digest("hex"));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.started_at.getTime()).toBeLessThanOrEqual(row.finished_at!.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    // The column layout is Prisma's own.
    const { rows: columns } = await withPg(url, (c) =>
      c.query<{ column_name: string; data_type: string; is_nullable: string }>(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      ),
    );
    expect(columns.map((c) => `${c.column_name} ${c.data_type} ${c.is_nullable}`)).toEqual([
      "id character varying NO",
      "checksum character varying NO",
      "finished_at timestamp with time zone YES",
      "migration_name character varying NO",
      "logs text YES",
      "rolled_back_at timestamp with time zone YES",
      "started_at timestamp with time zone NO",
      "applied_steps_count integer NO",
    ]);
  });

  it("serialises concurrent runs", async () => {
    const url = await emptyDatabase();
    const results = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    expect(results.flatMap((r) => r.applied)).toEqual(await migrationNames());
    const { rows } = await withPg(url, (c) => c.query<{ n: number }>(`SELECT count(*)::int AS n FROM "_prisma_migrations"`));
    expect(rows[0]?.n).toBe((await migrationNames()).length);
  });

  describe("with a copy of the migrations", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "berth-migrations-"));
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("refuses when an applied migration's file changed", async () => {
      const url = await emptyDatabase();
      await applyMigrations(url, { migrationsDir: dir });
      const [first] = await migrationNames();
      await appendFile(join(dir, first!, "migration.sql"), "\n-- edited\n");
      const run = applyMigrations(url, { migrationsDir: dir });
      await expect(run).rejects.toBeInstanceOf(MigrationError);
      await expect(run).rejects.toThrow(`migration ${first} was modified after it was applied`);
    });

    it("rolls a failing migration back entirely and records nothing", async () => {
      const url = await emptyDatabase();
      const fresh = await mkdtemp(join(tmpdir(), "berth-migrations-"));
      try {
        await cp(MIGRATIONS_DIR, fresh, { recursive: true });
        await mkdir(join(fresh, "99990101000000_broken"));
        await writeFile(join(fresh, "99990101000000_broken", "migration.sql"), `CREATE TABLE "half_done" (id int);\nSELECT 1 / 0;\n`);
        await expect(applyMigrations(url, { migrationsDir: fresh })).rejects.toThrow(
          /migration 99990101000000_broken failed and was rolled back: division by zero/,
        );
        const state = await withPg(url, async (c) => ({
          table: (await c.query<{ t: string | null }>(`SELECT to_regclass('half_done')::text AS t`)).rows[0]?.t,
          names: (await c.query<{ migration_name: string }>(`SELECT migration_name FROM "_prisma_migrations"`)).rows.map(
            (r) => r.migration_name,
          ),
        }));
        expect(state.table).toBeNull();
        expect(state.names).toEqual(await migrationNames()); // the good ones stay applied
      } finally {
        await rm(fresh, { recursive: true, force: true });
      }
    });
  });
});
