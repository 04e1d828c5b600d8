import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { claimNextJob, finishJob, releaseJob, requeueStaleJobs, updateJobProgress, type Job, type JobProgress } from "@berth/db";
import type { Services } from "../context";
import { actorForUser, type Actor } from "../auth/actor";
import { errorMessage } from "../errors";
import { notifyJobChanged } from "./job-events";
import { jobHandlers, type JobOrigin, type JobProgressEvent } from "./job-kinds";
import { PullInterrupted } from "./pull";

export interface JobRunnerOptions {
  /** Jobs run at once by this process. */
  concurrency?: number;
  /** How often to look for queued jobs when idle. */
  pollMs?: number;
  /** Progress is written at most this often (and on every status change). */
  progressMs?: number;
  /** A running job's heartbeat interval. */
  heartbeatMs?: number;
  /** A running job whose heartbeat is older than this is queued again (its replica died). */
  staleMs?: number;
  log?: (line: string) => void;
}

export interface JobRunner {
  readonly workerId: string;
  /** Look for queued jobs now rather than at the next poll. */
  wake(): void;
  /** Stops claiming, aborts the running jobs and queues them again. */
  stop(): Promise<void>;
}

/** Jobs this process runs, by id: lets `jobs.cancel` abort at once rather than at the next write. */
const localJobs = new Map<string, AbortController>();
/** Runners in this process, so enqueueing wakes them. */
const runners = new Set<JobRunner>();

/** Aborts a job if this process runs it (the database state is the caller's to set). */
export function abortLocalJob(id: string, reason: unknown = new Error("pull cancelled")): boolean {
  const controller = localJobs.get(id);
  controller?.abort(reason);
  return controller !== undefined;
}

/** Tells this process's runners that a job was queued. */
export function wakeJobRunners(): void {
  for (const r of runners) r.wake();
}

/**
 * Claims queued jobs from PostgreSQL (any replica may run any job), runs them, writes their
 * progress, heartbeats and outcome. A job cancelled or taken away (its heartbeat thought lost)
 * is noticed at the next write and aborted.
 */
export function startJobRunner(services: Services, options: JobRunnerOptions = {}): JobRunner {
  const concurrency = options.concurrency ?? 4;
  const pollMs = options.pollMs ?? 500;
  const progressMs = options.progressMs ?? 250;
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const staleMs = options.staleMs ?? 30_000;
  const log = options.log ?? ((line: string) => console.error(line));
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const { db } = services;

  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let lastStaleCheck = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wakeUp = undefined;
        resolve();
      }, ms);
      wakeUp = () => {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      };
    });

  async function loop(): Promise<void> {
    while (!stopped) {
      try {
        if (Date.now() - lastStaleCheck > staleMs / 2) {
          lastStaleCheck = Date.now();
          const requeued = await requeueStaleJobs(db, staleMs);
          if (requeued.length) log(`berth: queued again ${requeued.length} job(s) whose worker stopped answering`);
        }
        if (running.size < concurrency && !stopped) {
          const job = await claimNextJob(db, workerId);
          if (job && !stopped) {
            notifyJobChanged(job.id);
            start(job);
            continue;
          }
          if (job) await releaseJob(db, job.id, workerId);
        }
      } catch (err) {
        if (stopped) break;
        log(`berth: job runner: ${errorMessage(err)}`);
      }
      if (!stopped) await sleep(pollMs);
    }
  }

  function start(job: Job): void {
    const controller = new AbortController();
    localJobs.set(job.id, controller);
    const done = runJob(job, controller)
      .catch((err: unknown) => log(`berth: job ${job.id}: ${errorMessage(err)}`))
      .finally(() => {
        running.delete(job.id);
        localJobs.delete(job.id);
        wakeUp?.();
      });
    running.set(job.id, { controller, done });
  }

  /** Someone who cannot be found any more (never expected) acts with no rights beyond reading. */
  const jobActor = (userId: string, username: string) =>
    actorForUser(db, userId).catch((): Actor => ({ userId, username, role: "viewer" }));

  async function runJob(job: Job, controller: AbortController): Promise<void> {
    const reporter = new ProgressWriter(progressMs, heartbeatMs, async (progress) => {
      const mine = await updateJobProgress(db, job.id, workerId, progress);
      notifyJobChanged(job.id);
      if (!mine && !controller.signal.aborted) controller.abort(new Error(`${job.kind} cancelled`));
    });
    const input = job.input as unknown as JobOrigin & Record<string, unknown>;
    try {
      const handler = Object.hasOwn(jobHandlers, job.kind) ? jobHandlers[job.kind] : undefined;
      if (!handler) throw new Error(`unknown job kind "${String(job.kind)}"`);
      const result = await handler(
        {
          services,
          // The person who queued the job, with their role now: recording a pull asks tag protection.
          // A robot's job is audited as the robot (its creator in details.robot), as its request was.
          actor: job.createdById
            ? { ...(await jobActor(job.createdById, job.createdByName)), ...(input.robot ? { robot: input.robot } : {}) }
            : null,
          actorName: job.createdByName,
          request: { interface: input.interface, ip: input.ip, userAgent: input.userAgent },
        },
        input,
        { jobId: job.id, signal: controller.signal, onProgress: (e) => reporter.event(e) },
      );
      await reporter.close();
      await finishJob(db, job.id, workerId, {
        state: "succeeded",
        progress: reporter.progress,
        result: result as unknown as Record<string, unknown>,
      });
      notifyJobChanged(job.id);
    } catch (err) {
      await reporter.close();
      if (controller.signal.reason instanceof PullInterrupted) {
        await releaseJob(db, job.id, workerId);
        notifyJobChanged(job.id);
        return;
      }
      const cancelled = controller.signal.aborted;
      const message = cancelled ? `${job.kind} cancelled` : errorMessage(err);
      reporter.progress.lines.push(cancelled ? "Cancelled" : `Error: ${message}`);
      // A job cancelled through jobs.cancel is already marked so; this records its final progress.
      await finishJob(db, job.id, workerId, {
        state: cancelled ? "cancelled" : "failed",
        progress: reporter.progress,
        error: message,
      });
      notifyJobChanged(job.id);
    }
  }

  const runner: JobRunner = {
    workerId,
    wake() {
      wakeUp?.();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      runners.delete(runner);
      wakeUp?.();
      for (const { controller } of running.values()) controller.abort(new PullInterrupted());
      await Promise.all([...running.values()].map((r) => r.done));
      await looping;
    },
  };
  runners.add(runner);
  const looping = loop();
  return runner;
}

/**
 * Folds pull events into a job's progress and writes it: at once on a status line or a layer's
 * status change, otherwise at most every `intervalMs`; and at least every `heartbeatMs`, which
 * is the job's heartbeat. One write at a time; the latest state wins.
 */
class ProgressWriter {
  readonly progress: JobProgress = { lines: [], layers: [] };
  private dirty = false;
  private writing: Promise<void> | undefined;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    heartbeatMs: number,
    private readonly write: (progress: JobProgress) => Promise<void>,
  ) {
    this.heartbeat = setInterval(() => {
      if (performance.now() - this.lastWrite >= heartbeatMs / 2) this.flush(true);
    }, heartbeatMs);
  }

  event(e: JobProgressEvent): void {
    if (this.closed) return;
    let statusChanged = true;
    if (e.id === undefined) {
      this.progress.lines.push(e.status);
    } else {
      const layer = { id: e.id, status: e.status, ...(e.current !== undefined ? { current: e.current, total: e.total } : {}) };
      const i = this.progress.layers.findIndex((l) => l.id === e.id);
      if (i < 0) this.progress.layers.push(layer);
      else {
        statusChanged = this.progress.layers[i]!.status !== e.status;
        this.progress.layers[i] = layer;
      }
    }
    this.dirty = true;
    const wait = this.intervalMs - (performance.now() - this.lastWrite);
    if (statusChanged || wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Stops writing; waits for the write in flight. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.timer);
    while (this.writing) await this.writing;
  }

  private flush(force = false): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || (!this.dirty && !force)) return;
    if (this.writing) {
      // Written when the one in flight ends.
      this.dirty ||= force;
      return;
    }
    this.dirty = false;
    this.lastWrite = performance.now();
    const snapshot: JobProgress = { lines: [...this.progress.lines], layers: this.progress.layers.map((l) => ({ ...l })) };
    this.writing = this.write(snapshot)
      .catch(() => undefined)
      .finally(() => {
        this.writing = undefined;
        if (this.dirty) this.flush();
      });
  }
}
