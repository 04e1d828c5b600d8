import {
  familiarString,
  openTarContext,
  parseReference,
  resolveImage,
  runBuild,
  tagImage,
  withDefaultTag,
  Digest,
  NoSuchImageError,
  type BuildResult,
  type ImageRecord,
} from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import type { ClientInterface } from "../context";
import { audited, recordFailure, type AuditTarget } from "../audit/record";
import { TagProtection } from "./tag-protection";
import { PrismaBuildCache } from "./build-cache";
import { runPull } from "./pull";
import type { JobCtx, JobOrigin, RunJobOptions } from "./job-kinds";

/** What a build job stores as its input: the context (a tar in the blob store) and docker build's options. */
export interface BuildJobInput {
  /** The uploaded context tar, kept as a blob until the job ends. */
  contextDigest: string;
  contextBytes: number;
  /** -f: path of the Dockerfile in the context. */
  dockerfile?: string;
  /** -t, as given. */
  tags: string[];
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  platform?: string;
  interface: ClientInterface;
  ip: string | null;
  userAgent: string | null;
}

export interface BuildJobResult {
  id: string;
  tags: string[];
  steps: number;
  cachedSteps: number;
  durationMs: number;
}

/**
 * `docker build` on the server: the engine runs the Dockerfile against the uploaded context
 * (base images from the store, or pulled through the team's mirrors as the same person), each
 * step an image with its parent like the classic builder, cached by step in PostgreSQL. The
 * tags move in one transaction with the `image.build` audit event, after "Successfully built";
 * a failed build tags nothing and is audited as failed.
 */
export async function runBuildJob(ctx: JobCtx, input: BuildJobInput & JobOrigin, opts: RunJobOptions): Promise<BuildJobResult> {
  const started = performance.now();
  const say = (status: string) => opts.onProgress?.({ status });
  const tags = input.tags.map((t) => familiarString(withDefaultTag(parseReference(t))));
  const spec = {
    action: "image.build",
    targets: tags.map((ref) => ({ ref })),
    details: {
      contextBytes: input.contextBytes,
      ...(input.dockerfile ? { dockerfile: input.dockerfile } : {}),
      ...(input.target ? { target: input.target } : {}),
      ...(input.noCache ? { noCache: true } : {}),
    },
  };
  const contextDigest = Digest.parse(input.contextDigest);
  const db = ctx.services.db;
  let built: BuildResult;
  try {
    const context = await openTarContext(await ctx.services.blobs.open(contextDigest), {
      dockerfilePath: input.dockerfile,
      signal: opts.signal,
    });
    try {
      built = await runBuild({
        store: ctx.services.blobs,
        meta: new PrismaMetadataStore(db),
        context,
        dockerfilePath: input.dockerfile,
        buildArgs: input.buildArgs,
        labels: input.labels,
        target: input.target,
        noCache: input.noCache,
        platform: input.platform,
        sourceDateEpoch: sourceDateEpoch(input.buildArgs),
        cache: new PrismaBuildCache(db),
        resolveBaseImage: (ref, platform) => resolveBase(ctx, input, ref, platform, opts, say),
        guardWrites: (fn) => ctx.services.blobLock.shared(fn),
        onOutput: say,
        signal: opts.signal,
      });
    } finally {
      await context.close();
    }
  } catch (err) {
    await recordFailure(ctx, spec, err);
    throw err;
  } finally {
    await dropContext(ctx, contextDigest, opts.jobId);
  }

  let policy: TagProtection | undefined;
  const image = built.image;
  const targets = await audited<AuditTarget[]>(
    ctx,
    {
      ...spec,
      describe: (t) => ({
        targets: t.length ? t : [{ ref: image.id.toString(), digestAfter: image.id.toString() }],
        details: {
          imageId: image.id.toString(),
          steps: built.steps,
          cachedSteps: built.cachedSteps,
          durationMs: Math.round(performance.now() - started),
          ...policy?.auditDetails(),
        },
      }),
    },
    async (tx) => {
      const meta = new PrismaMetadataStore(tx);
      policy = new TagProtection(tx, ctx.actor);
      const out: AuditTarget[] = [];
      for (const target of tags) {
        const tagged = await tagImage({ meta, source: image.id.toString(), target, policy });
        out.push({ ref: target, digestBefore: tagged.previous?.imageId.toString() ?? null, digestAfter: image.id.toString() });
      }
      return out;
    },
  );
  for (const t of targets) say(`Successfully tagged ${t.ref}`);
  return {
    id: image.id.toString(),
    tags,
    steps: built.steps,
    cachedSteps: built.cachedSteps,
    durationMs: Math.round(performance.now() - started),
  };
}

/** BuildKit's convention: the SOURCE_DATE_EPOCH build arg pins created times and file mtimes. */
function sourceDateEpoch(buildArgs: Record<string, string> | undefined): number | undefined {
  const raw = buildArgs?.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds, got "${raw}"`);
  return value;
}

/**
 * A base image the store holds is used as it is (like docker build without --pull); otherwise
 * it is pulled through the team's mirrors, as a pull by the person who started the build.
 */
async function resolveBase(
  ctx: JobCtx,
  input: JobOrigin,
  ref: string,
  platform: string | undefined,
  opts: RunJobOptions,
  say: (line: string) => void,
): Promise<ImageRecord> {
  const meta = new PrismaMetadataStore(ctx.services.db);
  try {
    return await resolveImage({ meta, ref });
  } catch (err) {
    if (!(err instanceof NoSuchImageError)) throw err;
  }
  const pulled = await runPull(
    ctx,
    { ref, ...(platform ? { platform } : {}), interface: input.interface, ip: input.ip, userAgent: input.userAgent },
    {
      signal: opts.signal,
      auditDetails: { forBuild: true },
      onProgress: (e) => {
        if (e.id === undefined) say(e.status);
      },
    },
  );
  const id = pulled.images[0]?.id;
  if (!id) throw new Error(`pulling ${ref} stored no image`);
  const image = await meta.getImage(Digest.parse(id));
  if (!image) throw new Error(`pulled ${ref}, but its image ${id} is no longer in the store`);
  return image;
}

/** The context tar is the build's input only: removed once the job ends, unless something else holds those bytes. */
async function dropContext(ctx: JobCtx, digest: Digest, jobId: string | undefined): Promise<void> {
  await ctx.services.blobLock.exclusive(async () => {
    const meta = new PrismaMetadataStore(ctx.services.db);
    if (!(await meta.isBlobReferenced(digest, { exceptJob: jobId }))) await ctx.services.blobs.delete(digest);
  });
}
