import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TRPCError } from "@trpc/server";
import { DEFAULT_MAX_CONTEXT_BYTES, parseReference } from "@berth/engine";
import { enqueueJob } from "@berth/db";
import type { Context } from "../context";
import { guard } from "../auth/guard";
import { auditActorName, type Actor } from "../auth/actor";
import { jobOrigin } from "./job-kinds";
import { wakeJobRunners } from "./job-runner";
import type { BuildJobInput } from "./build";

type Ctx = Pick<Context, "services" | "request" | "actor">;

/** docker build's options, as the CLI's query string or the dashboard's form gives them. */
export interface BuildRequest {
  tags: string[];
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  platform?: string;
}

const PLATFORM = /^[a-z0-9_.-]+\/[a-z0-9_.-]+(?:\/[a-z0-9_.-]+)?$/;

/** `K=V` pairs (`--build-arg`, `--label`): a pair without `=` is refused, naming it. */
export function keyValues(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new TRPCError({ code: "BAD_REQUEST", message: `${flag} "${pair}": expected KEY=VALUE` });
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Checks a build's options before any byte of its context is stored. */
export function checkBuildRequest(req: BuildRequest): void {
  for (const tag of req.tags) {
    try {
      parseReference(tag);
    } catch (err) {
      throw new TRPCError({ code: "BAD_REQUEST", message: `invalid tag "${tag}": ${(err as Error).message}` });
    }
  }
  if (req.platform !== undefined && !PLATFORM.test(req.platform)) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `platform "${req.platform}" must be "os/arch[/variant]", e.g. linux/arm64/v8` });
  }
  if (req.dockerfile !== undefined && (req.dockerfile === "" || req.dockerfile.split("/").includes(".."))) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `Dockerfile path "${req.dockerfile}" must be a path inside the context` });
  }
}

/**
 * `docker build`'s upload: the context tar is stored as a blob (streamed, capped) and a build job
 * is queued that any replica can run. Building needs `load` in the namespace of every tag.
 */
export async function queueBuild(ctx: Ctx, context: Readable, req: BuildRequest): Promise<{ id: string }> {
  const actor: Actor = await guard(
    ctx,
    "load",
    req.tags.map((ref) => ({ ref })),
    { audit: "image.build", auditAnonymous: true },
  );
  checkBuildRequest(req);
  return ctx.services.blobLock.shared(async () => {
    const { digest, size } = await storeContext(ctx, context);
    const input: BuildJobInput = {
      contextDigest: digest,
      contextBytes: size,
      tags: req.tags,
      ...(req.dockerfile ? { dockerfile: req.dockerfile } : {}),
      ...(req.buildArgs && Object.keys(req.buildArgs).length ? { buildArgs: req.buildArgs } : {}),
      ...(req.labels && Object.keys(req.labels).length ? { labels: req.labels } : {}),
      ...(req.target ? { target: req.target } : {}),
      ...(req.noCache ? { noCache: true } : {}),
      ...(req.platform ? { platform: req.platform } : {}),
      interface: ctx.request.interface,
      ip: ctx.request.ip,
      userAgent: ctx.request.userAgent,
    };
    const job = await enqueueJob(ctx.services.db, {
      kind: "build",
      input: { ...input, ...jobOrigin({ ...ctx, actor }) },
      createdById: actor.userId,
      createdByName: auditActorName(actor),
    });
    wakeJobRunners();
    return { id: job.id };
  });
}

async function storeContext(ctx: Ctx, context: Readable): Promise<{ digest: string; size: number }> {
  const ingest = await ctx.services.blobs.ingest();
  let size = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > DEFAULT_MAX_CONTEXT_BYTES) {
        done(new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `build context is larger than ${DEFAULT_MAX_CONTEXT_BYTES} bytes` }));
      } else done(null, chunk);
    },
  });
  try {
    await pipeline(context, cap, ingest.writable);
    const committed = await ingest.commit();
    return { digest: committed.digest.toString(), size: committed.size };
  } catch (err) {
    await ingest.abort();
    throw err;
  }
}
