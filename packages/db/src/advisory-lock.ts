import pg from "pg";

/**
 * One PostgreSQL advisory lock, shared or exclusive, held for this process on a connection of its
 * own (a session lock lives and dies with its connection: a pooled one would be handed on while
 * held). Every replica on the database takes the same lock, so what it guards holds across them.
 */
export interface AdvisoryLock {
  lockShared(): Promise<void>;
  unlockShared(): Promise<void>;
  lockExclusive(): Promise<void>;
  unlockExclusive(): Promise<void>;
  /** Whether another session waits to take it exclusively (a holder that keeps it shared starves that one). */
  exclusiveWaiting(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Opens the lock called `name`. A lost connection releases what it held (PostgreSQL ends the
 * session), is reported to `onError`, and the next request opens a new one.
 */
export async function openAdvisoryLock(databaseUrl: string, name: string, onError?: (err: Error) => void): Promise<AdvisoryLock> {
  let client: pg.Client | undefined;
  let closed = false;
  const connect = async (): Promise<pg.Client> => {
    const next = new pg.Client({ connectionString: databaseUrl });
    const lost = (err?: Error) => {
      if (client === next) client = undefined;
      if (err && !closed) onError?.(err);
    };
    next.on("error", lost);
    next.on("end", () => lost());
    await next.connect();
    client = next;
    return next;
  };
  let connecting: Promise<pg.Client> | undefined;
  const current = () => (client ? Promise.resolve(client) : (connecting ??= connect().finally(() => (connecting = undefined))));
  await current();
  // The connection runs its queries in the order they are asked: an unlock asked before a lock
  // is done before it.
  const run = async (fn: string) => {
    // Closing ended the session, and PostgreSQL released every hold with it: nothing is left to unlock.
    if (closed && fn.startsWith("pg_advisory_unlock")) return;
    if (closed) throw new Error(`the connection of advisory lock ${name} is closed`);
    await (await current()).query(`SELECT ${fn}(hashtext($1)::bigint)`, [name]);
  };
  // pg_locks shows a bigint advisory key as two oids, its high and low halves.
  const waitingSql = `
    SELECT EXISTS (
      SELECT 1 FROM pg_locks
      WHERE locktype = 'advisory' AND objsubid = 1 AND mode = 'ExclusiveLock' AND NOT granted
        AND ((classid::bigint << 32) | objid::bigint) = hashtext($1)::bigint
    ) AS waiting`;
  return {
    lockShared: () => run("pg_advisory_lock_shared"),
    unlockShared: () => run("pg_advisory_unlock_shared"),
    lockExclusive: () => run("pg_advisory_lock"),
    unlockExclusive: () => run("pg_advisory_unlock"),
    async exclusiveWaiting() {
      if (closed) return false;
      const { rows } = await (await current()).query<{ waiting: boolean }>(waitingSql, [name]);
      return rows[0]?.waiting === true;
    },
    async close() {
      closed = true;
      await client?.end();
    },
  };
}
