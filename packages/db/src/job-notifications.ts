import pg from "pg";
import type { JobState } from "./jobs";

export interface JobNotifications {
  /** Resolves once the listening connection is closed. */
  close(): Promise<void>;
}

export interface ListenJobChangesOptions {
  /** Called for every committed change to a job, on any replica. */
  onChange(id: string, state: JobState): void;
  /**
   * Called after the connection was lost and listening resumed: changes made meanwhile were
   * not announced, so callers re-read what they wait for.
   */
  onResume?(): void;
  /** Connection errors, which are retried; default: ignored. */
  onError?(err: Error): void;
  /** Wait before reconnecting; default 1 s. */
  retryMs?: number;
}

const CHANNEL = "berth_jobs";

/**
 * LISTENs on the channel the jobs trigger announces changes on (migration job_notify), on a
 * connection of its own: a pooled connection would lose the LISTEN when handed back.
 * Reconnects until closed.
 */
export async function listenJobChanges(databaseUrl: string, options: ListenJobChangesOptions): Promise<JobNotifications> {
  const retryMs = options.retryMs ?? 1_000;
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on("notification", (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      const [id, state] = message.payload.split(" ");
      if (id && state) options.onChange(id, state as JobState);
    });
    next.on("error", (err) => {
      options.onError?.(err);
      scheduleReconnect(next);
    });
    next.on("end", () => scheduleReconnect(next));
    client = next;
    await next.connect();
    await next.query(`LISTEN ${CHANNEL}`);
  };

  const scheduleReconnect = (lost: pg.Client): void => {
    if (closed || client !== lost || retry) return;
    client = undefined;
    lost.end().catch(() => undefined);
    retry = setTimeout(() => {
      retry = undefined;
      if (closed) return;
      connect().then(
        () => options.onResume?.(),
        (err: unknown) => {
          options.onError?.(err instanceof Error ? err : new Error(String(err)));
          if (client) scheduleReconnect(client);
        },
      );
    }, retryMs);
    retry.unref();
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
