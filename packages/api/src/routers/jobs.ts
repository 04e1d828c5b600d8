import type { TRPCRouterRecord } from "@trpc/server";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { cancelJob, enqueueJob, getJob, listJobs, PrismaMetadataStore, type Job } from "@berth/db";
import { parseReference, resolvePushTargets } from "@berth/engine";
import { permittedProcedure } from "../trpc";
import { auditActorName } from "../auth/actor";
import type { Check } from "../auth/guard";
import { jobOrigin } from "../services/job-kinds";
import { abortLocalJob, wakeJobRunners } from "../services/job-runner";
import type { PullJobInput } from "../services/pull";
import type { PushJobInput } from "../services/push";
import type { BuildJobInput } from "../services/build";
import { keyValues, queueBuild } from "../services/build-queue";
import { dockerfileOnlyContext } from "@berth/engine";
import { notifyJobChanged, waitForJobChange } from "../services/job-events";
import type { Context } from "../context";

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
/** Changes are announced (jobs channel); the re-read only covers announcements lost with a connection. */
const WATCH_REREAD_MS = 5_000;

const platform = z
  .string()
  .regex(/^[a-z0-9_.-]+\/[a-z0-9_.-]+(?:\/[a-z0-9_.-]+)?$/, 'platform must be "os/arch[/variant]", e.g. linux/arm64/v8');

/** A job as clients see it: without the requester's address. */
function jobView(job: Job) {
  const input = job.input as Partial<PullJobInput & PushJobInput & BuildJobInput>;
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    /** A build's first tag. */
    ref: input.ref ?? input.tags?.[0] ?? null,
    platform: input.platform ?? null,
    /** push -a: every tag of the repository. */
    allTags: input.allTags ?? false,
    progress: job.progress,
    result: job.result,
    error: job.error,
    createdByName: job.createdByName,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

function found(job: Job | undefined, id: string) {
  if (!job) throw new TRPCError({ code: "NOT_FOUND", message: `no such job: ${id}` });
  return jobView(job);
}

async function cancelTargets(ctx: Pick<Context, "services">, id: string): Promise<Check[]> {
  const job = await getJob(ctx.services.db, id);
  const input = job?.input as Partial<PullJobInput & BuildJobInput> | undefined;
  if (job?.kind === "build") return (input?.tags ?? []).map((ref) => ({ ref, action: "load" as const }));
  const ref = input?.ref;
  // An unknown job is reported as such by the procedure.
  return job && ref ? [{ ref, action: job.kind === "push" ? "push" : "pull" }] : [];
}

export const jobsRouter = {
  /** `docker pull` as a server-side job: queued at once, run by any replica; poll `get`. */
  pull: permittedProcedure("pull", {
    input: z.object({ ref: z.string().trim().min(1, "an image reference is required"), platform: platform.optional() }),
    targets: (input) => [{ ref: input.ref }],
    audit: "image.pull",
  }).mutation(async ({ ctx, input }) => {
    // Docker's message for a bad reference (BAD_REQUEST), before anything is queued.
    parseReference(input.ref);
    const jobInput: PullJobInput = {
      ref: input.ref,
      ...(input.platform ? { platform: input.platform } : {}),
      interface: ctx.request.interface,
      ip: ctx.request.ip,
      userAgent: ctx.request.userAgent,
    };
    const job = await enqueueJob(ctx.services.db, {
      kind: "pull",
      input: { ...jobInput, ...jobOrigin(ctx) },
      createdById: ctx.actor.userId,
      createdByName: auditActorName(ctx.actor),
    });
    wakeJobRunners();
    return { id: job.id };
  }),

  /** `docker push NAME[:TAG]` (or `-a NAME`) as a server-side job, with the team's credentials for the registry. */
  push: permittedProcedure("push", {
    input: z.object({ ref: z.string().trim().min(1, "an image reference is required"), allTags: z.boolean().optional() }),
    targets: (input) => [{ ref: input.ref }],
    audit: "image.push",
  }).mutation(async ({ ctx, input }) => {
    // Docker's messages (bad reference, "An image does not exist locally with the tag: …"), before anything is queued.
    await resolvePushTargets({ meta: new PrismaMetadataStore(ctx.services.db), ref: input.ref, allTags: input.allTags });
    const jobInput: PushJobInput = {
      ref: input.ref,
      ...(input.allTags ? { allTags: true } : {}),
      interface: ctx.request.interface,
      ip: ctx.request.ip,
      userAgent: ctx.request.userAgent,
    };
    const job = await enqueueJob(ctx.services.db, {
      kind: "push",
      input: { ...jobInput, ...jobOrigin(ctx) },
      createdById: ctx.actor.userId,
      createdByName: auditActorName(ctx.actor),
    });
    wakeJobRunners();
    return { id: job.id };
  }),

  /**
   * `docker build -` from a pasted Dockerfile (no other files): queued like an uploaded context.
   * Contexts with files come as a tar through `POST /api/images/build`.
   */
  build: permittedProcedure("load", {
    input: z.object({
      dockerfile: z
        .string()
        .min(1, "the Dockerfile is empty")
        .max(1024 * 1024, "a pasted Dockerfile may be at most 1 MiB"),
      tags: z.array(z.string().trim().min(1)).max(20).default([]),
      buildArgs: z.array(z.string()).max(100).default([]),
      labels: z.array(z.string()).max(100).default([]),
      target: z.string().trim().optional(),
      noCache: z.boolean().optional(),
      platform: platform.optional(),
    }),
    targets: (input) => input.tags.map((ref) => ({ ref })),
    audit: "image.build",
  }).mutation(({ ctx, input }) =>
    queueBuild(ctx, dockerfileOnlyContext(input.dockerfile), {
      tags: input.tags,
      buildArgs: keyValues(input.buildArgs, "--build-arg"),
      labels: keyValues(input.labels, "--label"),
      ...(input.target ? { target: input.target } : {}),
      ...(input.noCache ? { noCache: true } : {}),
      ...(input.platform ? { platform: input.platform } : {}),
    }),
  ),

  get: permittedProcedure("read", { input: z.object({ id: z.uuid() }) }).query(async ({ ctx, input }) =>
    found(await getJob(ctx.services.db, input.id), input.id),
  ),

  /**
   * The job as it changes, until it ends (a tRPC subscription, served as server-sent events):
   * woken at once by every change, whichever replica runs it (the jobs channel).
   */
  watch: permittedProcedure("read", { input: z.object({ id: z.uuid() }) }).subscription(async function* ({ ctx, input, signal }) {
    let last = "";
    for (let round = 0; !signal?.aborted; round++) {
      const view = found(await getJob(ctx.services.db, input.id), input.id);
      const key = JSON.stringify([view.state, view.progress, view.result, view.error, view.startedAt]);
      if (key !== last) {
        last = key;
        yield view;
      }
      if (FINISHED.has(view.state)) return;
      await waitForJobChange(input.id, WATCH_REREAD_MS, signal);
    }
  }),

  /** Newest first. */
  list: permittedProcedure("read", {
    input: z.object({ limit: z.number().int().min(1).max(100).default(20) }).default({ limit: 20 }),
  }).query(async ({ ctx, input }) => (await listJobs(ctx.services.db, { limit: input.limit })).map(jobView)),

  /**
   * A queued job is cancelled; a running one is aborted (by whichever replica runs it). Layer
   * checks are not cancelled.
   * Needs what starting it needed: `pull`/`push` in the namespace of its reference.
   */
  cancel: permittedProcedure("read", {
    input: z.object({ id: z.uuid() }),
    targets: (input, ctx) => cancelTargets(ctx, input.id),
    audit: "job.cancel",
  }).mutation(async ({ ctx, input }) => {
    if ((await getJob(ctx.services.db, input.id))?.kind === "layer-check") {
      // Nothing would check the layers again: the image would stay "not checked yet" for good.
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: "a layer check cannot be cancelled: it reads the layer once and ends by itself, and its layers would stay unchecked",
      });
    }
    const job = await cancelJob(ctx.services.db, input.id);
    if (job?.state === "cancelled") abortLocalJob(input.id);
    notifyJobChanged(input.id);
    return found(job, input.id);
  }),
} satisfies TRPCRouterRecord;
