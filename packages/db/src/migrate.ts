import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** prisma/migrations at the repository root. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../prisma/migrations/", import.meta.url));

/** The key `prisma migrate` locks, so our runner and Prisma's never migrate at the same time. */
const MIGRATION_LOCK_KEY = 72707369;

/** Prisma's own DDL for its bookkeeping table, so `prisma migrate status` reads our records. */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface ApplyMigrationsOptions {
  /** Defaults to the repository's prisma/migrations. */
  migrationsDir?: string;
}

export interface ApplyMigrationsResult {
  /** Names of the migrations applied by this call, in order. */
  applied: string[];
}

export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MigrationError";
  }
}

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/**
 * Applies the pending migrations in name order, each in its own transaction, under Prisma's
 * migration advisory lock, recording them in `_prisma_migrations` as `prisma migrate deploy` does.
 * Refuses to run when an applied migration's file changed or a previous migration failed.
 */
export async function applyMigrations(databaseUrl: string, options: ApplyMigrationsOptions = {}): Promise<ApplyMigrationsResult> {
  const migrations = await readMigrations(options.migrationsDir ?? MIGRATIONS_DIR);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
      }>(
        `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
         WHERE rolled_back_at IS NULL ORDER BY started_at`,
      );
      const applied = new Map(rows.map((row) => [row.migration_name, row]));

      for (const row of rows) {
        if (row.finished_at === null) {
          throw new MigrationError(
            `migration ${row.migration_name} started but did not finish; resolve it by hand ` +
              "(prisma migrate resolve) before applying further migrations",
          );
        }
      }
      for (const migration of migrations) {
        const record = applied.get(migration.name);
        if (record && record.checksum !== migration.checksum) {
          throw new MigrationError(
            `migration ${migration.name} was modified after it was applied ` +
              `(applied checksum ${record.checksum}, file checksum ${migration.checksum}); ` +
              "restore the original file and put the change in a new migration",
          );
        }
      }

      const done: string[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.name)) continue;
        await applyOne(client, migration);
        done.push(migration.name);
      }
      return { applied: done };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  await client.query("BEGIN");
  try {
    const {
      rows: [started],
    } = await client.query<{ now: Date }>("SELECT clock_timestamp() AS now");
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, $4, 1)`,
      [randomUUID(), migration.checksum, migration.name, started?.now],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${migration.name} failed and was rolled back: ${reason}`, {
      cause: error,
    });
  }
}

async function readMigrations(dir: string): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationError(`cannot read the migrations directory ${dir}`, { cause: error });
  }
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, name, "migration.sql"));
    } catch {
      continue; // Prisma ignores directories without a migration.sql too.
    }
    migrations.push({
      name,
      sql: bytes.toString("utf8"),
      checksum: createHash("sha256").update(bytes).digest("hex"),
    });
  }
  return migrations;
}
