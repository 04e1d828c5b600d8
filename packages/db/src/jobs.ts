import type { DbClient } from "./client";
import { Prisma } from "./generated/prisma/client";

/**
 * Server-side jobs (pulls and pushes), queued in PostgreSQL. Any replica claims the oldest queued
 * job with `FOR UPDATE SKIP LOCKED`, so two never take the same one; the worker that claimed a
 * job heartbeats while it runs, and a job whose heartbeat stopped (a crashed replica) is queued
 * again by `requeueStaleJobs`. Every write by a worker is conditional on it still holding the
 * job, so a worker learns from a `false` that the job was cancelled or taken from it.
 */
export type JobKind = "pull" | "push" | "build" | "layer-check";
export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** One layer's docker-like progress. */
export interface JobLayerProgress {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

export interface JobProgress {
  /** Status lines about the whole job ("Pulling from …", "Digest: …", "Status: …"). */
  lines: string[];
  layers: JobLayerProgress[];
}

export interface Job {
  id: string;
  kind: JobKind;
  state: JobState;
  input: Record<string, unknown>;
  progress: JobProgress;
  result: Record<string, unknown> | null;
  error: string | null;
  createdById: string | null;
  createdByName: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  claimedBy: string | null;
  heartbeatAt: Date | null;
}

export interface EnqueueJobInput {
  kind: JobKind;
  input: Record<string, unknown>;
  createdById: string | null;
  createdByName: string;
}

interface JobRow {
  id: string;
  kind: string;
  state: string;
  input: unknown;
  progress: unknown;
  result: unknown;
  error: string | null;
  created_by_id: string | null;
  created_by_name: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  claimed_by: string | null;
  heartbeat_at: Date | null;
}

const COLUMNS = Prisma.sql`id, kind, state, input, progress, result, error, created_by_id, created_by_name,
  created_at, started_at, finished_at, claimed_by, heartbeat_at`;

const EMPTY_PROGRESS: JobProgress = { lines: [], layers: [] };

export async function enqueueJob(db: DbClient, job: EnqueueJobInput): Promise<Job> {
  const [row] = await db.$queryRaw<JobRow[]>`
    INSERT INTO jobs (id, kind, state, input, progress, created_by_id, created_by_name)
    VALUES (gen_random_uuid(), ${job.kind}, 'queued', ${JSON.stringify(job.input)}::jsonb,
      ${JSON.stringify(EMPTY_PROGRESS)}::jsonb, ${job.createdById}::uuid, ${job.createdByName})
    RETURNING ${COLUMNS}`;
  if (!row) throw new Error("INSERT INTO jobs returned no row");
  return toJob(row);
}

/** Takes the oldest queued job for `workerId` (running, heartbeat now), or undefined when none waits. */
export async function claimNextJob(db: DbClient, workerId: string): Promise<Job | undefined> {
  const [row] = await db.$queryRaw<JobRow[]>`
    UPDATE jobs SET state = 'running', claimed_by = ${workerId}, started_at = now(), heartbeat_at = now()
    WHERE id = (
      SELECT id FROM jobs WHERE state = 'queued' ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1
    )
    RETURNING ${COLUMNS}`;
  return row ? toJob(row) : undefined;
}

/**
 * Heartbeats a running job and, when given, replaces its progress. False: the job is no longer
 * this worker's to run (cancelled, or queued again after its heartbeat was thought lost).
 */
export async function updateJobProgress(db: DbClient, id: string, workerId: string, progress?: JobProgress): Promise<boolean> {
  const count = progress
    ? await db.$executeRaw`
        UPDATE jobs SET progress = ${JSON.stringify(progress)}::jsonb, heartbeat_at = now()
        WHERE id = ${id}::uuid AND state = 'running' AND claimed_by = ${workerId}`
    : await db.$executeRaw`
        UPDATE jobs SET heartbeat_at = now()
        WHERE id = ${id}::uuid AND state = 'running' AND claimed_by = ${workerId}`;
  return count === 1;
}

export interface FinishJobInput {
  state: "succeeded" | "failed" | "cancelled";
  progress?: JobProgress;
  result?: Record<string, unknown> | null;
  error?: string | null;
}

/**
 * Ends a job this worker holds. A success is recorded even over a cancellation that arrived
 * while its result was being committed (the image is there: the job did succeed); a
 * cancellation over a running or cancelled job (to record its final progress); a failure only
 * over a running job. False when the job was not this worker's to end.
 */
export async function finishJob(db: DbClient, id: string, workerId: string, outcome: FinishJobInput): Promise<boolean> {
  const states = outcome.state === "failed" ? ["running"] : ["running", "cancelled"];
  const progress = outcome.progress ? Prisma.sql`${JSON.stringify(outcome.progress)}::jsonb` : Prisma.sql`progress`;
  const result = outcome.result ? Prisma.sql`${JSON.stringify(outcome.result)}::jsonb` : Prisma.sql`NULL`;
  const count = await db.$executeRaw`
    UPDATE jobs SET state = ${outcome.state}, progress = ${progress}, result = ${result},
      error = ${outcome.error ?? null}, finished_at = now()
    WHERE id = ${id}::uuid AND claimed_by = ${workerId} AND state IN (${Prisma.join(states)})`;
  return count === 1;
}

/** Gives a running job back to the queue (a worker shutting down); its progress starts over. */
export async function releaseJob(db: DbClient, id: string, workerId: string): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE jobs SET state = 'queued', claimed_by = NULL, started_at = NULL, heartbeat_at = NULL,
      progress = ${JSON.stringify(EMPTY_PROGRESS)}::jsonb
    WHERE id = ${id}::uuid AND state = 'running' AND claimed_by = ${workerId}`;
  return count === 1;
}

/** Queues again the running jobs whose heartbeat is older than `olderThanMs` (their replica died). */
export async function requeueStaleJobs(db: DbClient, olderThanMs: number): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE jobs SET state = 'queued', claimed_by = NULL, started_at = NULL, heartbeat_at = NULL,
      progress = ${JSON.stringify(EMPTY_PROGRESS)}::jsonb
    WHERE state = 'running'
      AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => ${olderThanMs / 1000}))
    RETURNING id`;
  return rows.map((r) => r.id);
}

/**
 * Cancels a queued or running job; the worker running it notices at its next write. Returns
 * the job as it is afterwards (unchanged when it had already ended), undefined when unknown.
 */
export async function cancelJob(db: DbClient, id: string): Promise<Job | undefined> {
  const [row] = await db.$queryRaw<JobRow[]>`
    UPDATE jobs SET state = 'cancelled', error = 'cancelled', finished_at = now()
    WHERE id = ${id}::uuid AND state IN ('queued', 'running')
    RETURNING ${COLUMNS}`;
  return row ? toJob(row) : getJob(db, id);
}

export async function getJob(db: DbClient, id: string): Promise<Job | undefined> {
  const [row] = await db.$queryRaw<JobRow[]>`SELECT ${COLUMNS} FROM jobs WHERE id = ${id}::uuid`;
  return row ? toJob(row) : undefined;
}

/** Newest first. */
export async function listJobs(db: DbClient, options: { limit: number; kind?: JobKind }): Promise<Job[]> {
  const limit = Math.min(Math.max(Math.trunc(options.limit), 1), 500);
  const where = options.kind ? Prisma.sql`WHERE kind = ${options.kind}` : Prisma.empty;
  const rows = await db.$queryRaw<JobRow[]>`
    SELECT ${COLUMNS} FROM jobs ${where} ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
  return rows.map(toJob);
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind as JobKind,
    state: row.state as JobState,
    input: (row.input ?? {}) as Record<string, unknown>,
    progress: (row.progress ?? EMPTY_PROGRESS) as JobProgress,
    result: (row.result ?? null) as Record<string, unknown> | null,
    error: row.error,
    createdById: row.created_by_id,
    createdByName: row.created_by_name,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    claimedBy: row.claimed_by,
    heartbeatAt: row.heartbeat_at,
  };
}
