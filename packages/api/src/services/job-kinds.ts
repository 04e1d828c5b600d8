import type { JobKind } from "@berth/db";
import type { PullProgressEvent, PushProgressEvent } from "@berth/engine";
import type { ClientInterface, Context, RequestInfo } from "../context";
import type { Actor, RobotScope } from "../auth/actor";
import { runPull, type PullJobInput } from "./pull";
import { runPush, type PushJobInput } from "./push";
import { runBuildJob, type BuildJobInput } from "./build";
import { runLayerCheck, type LayerCheckInput } from "./layer-check";

/** Who queued a job and from where: the audit's actor, though the job runs without a request. */
export interface JobCtx {
  services: Context["services"];
  actor: Actor | null;
  actorName?: string;
  request: RequestInfo;
}

/** What every job's input holds besides its own fields: where the request came from, for the audit. */
export interface JobOrigin {
  interface: ClientInterface;
  ip: string | null;
  userAgent: string | null;
  /** Set when a robot token queued the job: the audit names the robot, and its creator (the job's creator). */
  robot?: RobotScope;
}

/** The origin of a job queued by this request. */
export function jobOrigin(ctx: Pick<Context, "request"> & { actor: Actor }): JobOrigin {
  const { interface: iface, ip, userAgent } = ctx.request;
  return { interface: iface, ip, userAgent, ...(ctx.actor.robot ? { robot: { ...ctx.actor.robot } } : {}) };
}

export interface RunJobOptions {
  /** The job's row, when run as a job (a pull run by a build or a mirror fill has none of its own). */
  jobId?: string;
  signal?: AbortSignal;
  /** docker-style progress: `{status}` lines, or `{id, status, current?, total?}` per layer. */
  onProgress?(event: JobProgressEvent): void;
}

/** docker-style progress of any kind of job (pull and push share the shape). */
export type JobProgressEvent = PullProgressEvent | PushProgressEvent;

/** Runs one kind of job; its result is stored on the job row as JSON. */
export type JobHandler = (ctx: JobCtx, input: JobOrigin & Record<string, unknown>, opts: RunJobOptions) => Promise<object>;

/** Every kind of server-side job, by the `kind` stored on its row. */
export const jobHandlers: Record<JobKind, JobHandler> = {
  pull: (ctx, input, opts) => runPull(ctx, input as unknown as PullJobInput, opts),
  push: (ctx, input, opts) => runPush(ctx, input as unknown as PushJobInput, opts),
  build: (ctx, input, opts) => runBuildJob(ctx, input as unknown as BuildJobInput & JobOrigin, opts),
  "layer-check": (ctx, input, opts) => runLayerCheck(ctx, input as unknown as LayerCheckInput, opts),
};
