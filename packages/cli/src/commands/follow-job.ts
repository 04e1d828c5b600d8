import type { BerthApi, PullJob } from "../api";
import { DaemonError, LocalError, PlainError } from "../errors";
import { println } from "../output";
import type { Runtime } from "../runtime";

/** How often a job is polled. */
export const JOB_POLL_MS = 300;
/** A job that has not finished by then is left to the server (it keeps running there). */
export const JOB_TIMEOUT_MS = 60 * 60 * 1000;

export interface FollowJobOptions {
  /** Names the job in messages: "pull", "push". */
  kind: string;
  /** The lines to print for a snapshot (those not printed before). */
  print(job: PullJob): string[];
  quiet?: boolean;
}

/**
 * Polls a server-side job until it ends, printing its progress; resolves when it succeeded.
 * A failed or cancelled job throws its error (exit 1); Ctrl-C cancels the job (exit 130);
 * a timeout leaves it running on the server.
 */
export async function followJob(rt: Runtime, api: BerthApi, id: string, opts: FollowJobOptions): Promise<PullJob> {
  const interrupt = new AbortController();
  const stopListening = rt.onInterrupt(() => interrupt.abort());
  const started = rt.now().getTime();
  try {
    for (;;) {
      const job = await api.getJob(id);
      if (!opts.quiet) for (const line of opts.print(job)) println(rt.io.stdout, line);
      if (job.state === "succeeded") return job;
      if (job.state === "failed") throw new DaemonError(job.error ?? `${opts.kind} failed`);
      if (job.state === "cancelled") throw new DaemonError(job.error ?? "context canceled");

      if (rt.now().getTime() - started > JOB_TIMEOUT_MS) {
        throw new LocalError(`timed out waiting for ${opts.kind} job ${id}; it is still running on the server (see the Jobs page)`);
      }
      await rt.sleep(JOB_POLL_MS, interrupt.signal);
      if (interrupt.signal.aborted) {
        // The job may have finished in the meantime: cancelling it then is not an error.
        await api.cancelJob(id).catch(() => undefined);
        throw new PlainError("", 130);
      }
    }
  } finally {
    stopListening();
  }
}
