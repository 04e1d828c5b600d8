// Test helpers over a real PostgreSQL: one server per test run, a fresh migrated database per
// test file (or test). Never a mock.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, createPrismaClient, startEmbeddedPostgres } from "@berth/db";
import type { PrismaClient } from "@berth/db";
import pg from "pg";
import { configuredTestServerUrl, setRunServerUrl } from "./env";

export { configuredTestServerUrl, TEST_PG_URL_ENV } from "./env";

export interface TestPostgres {
  /** URL of a database on the server with the right to CREATE DATABASE. */
  adminUrl: string;
  stop(): Promise<void>;
}

let processServer: Promise<TestPostgres> | undefined;

/**
 * The server tests create their databases on: `DATABASE_URL` when set, else the server the
 * vitest globalSetup started (`BERTH_TEST_PG_URL`), else one embedded server for this process.
 * `stop()` only stops a server this call started.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const external = configuredTestServerUrl();
  if (external) return { adminUrl: external, stop: async () => {} };
  processServer ??= startEmbeddedTestServer().then((server) => {
    process.once("exit", () => rmSync(server.dir, { recursive: true, force: true }));
    return server;
  });
  return processServer;
}

/** vitest globalSetup: starts the run's server unless DATABASE_URL is set; returns the teardown. */
export async function globalSetup(): Promise<() => Promise<void>> {
  if (configuredTestServerUrl()) return async () => {};
  const server = await startEmbeddedTestServer();
  setRunServerUrl(server.adminUrl);
  return async () => {
    setRunServerUrl(undefined);
    await server.stop();
  };
}

async function startEmbeddedTestServer(): Promise<TestPostgres & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "berth-test-pg-"));
  // When running as root the server runs as `postgres`, which must reach its data directory.
  await chmod(dir, 0o755);
  try {
    const server = await startEmbeddedPostgres({ dataDir: join(dir, "data") });
    return {
      adminUrl: server.adminUrl,
      dir,
      stop: async () => {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface TestDatabase {
  /** Name of the database (unique per call). */
  name: string;
  url: string;
  prisma: PrismaClient;
  /** Disconnects the client and drops the database. */
  drop(): Promise<void>;
}

let counter = 0;

/** A fresh, uniquely named database with all migrations applied. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { adminUrl } = await startTestPostgres();
  counter += 1;
  const name = `berth_test_${process.pid}_${counter}_${randomBytes(4).toString("hex")}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = databaseUrl(adminUrl, name);
  try {
    await applyMigrations(url);
  } catch (error) {
    await dropDatabase(adminUrl, name);
    throw error;
  }
  const prisma = createPrismaClient(url);
  let dropped: Promise<void> | undefined;
  return {
    name,
    url,
    prisma,
    drop: () =>
      (dropped ??= (async () => {
        await prisma.$disconnect();
        await dropDatabase(adminUrl, name);
      })()),
  };
}

/** `url` with its database replaced by `database`. */
export function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
