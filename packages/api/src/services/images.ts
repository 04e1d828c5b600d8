import {
  diskUsage,
  gcBlobs,
  imageHistory,
  inspectImage,
  pruneImages,
  removeImages,
  resolveImage,
  tagImage,
  type Digest,
  type MetadataStore,
} from "@berth/engine";
import { PrismaMetadataStore, type Transaction } from "@berth/db";
import type { Context } from "../context";
import { audited, recordFailure } from "../audit/record";
import { TagProtection } from "./tag-protection";

type Ctx = Pick<Context, "services" | "request" | "actor">;

function reader(ctx: Ctx) {
  return { meta: ctx.services.reads, blobs: ctx.services.blobs };
}

/** Deletes blobs that no image uses any more; runs after the removing transaction committed. */
async function collect(ctx: Ctx, candidates: Digest[]): Promise<number> {
  if (candidates.length === 0) return 0;
  // The store itself, not the cached reads: collection also forgets where a deleted blob was pushed.
  const meta = new PrismaMetadataStore(ctx.services.db);
  return ctx.services.blobLock.exclusive(async () => (await gcBlobs({ meta, blobs: ctx.services.blobs, candidates })).bytesFreed);
}

export { listImageRows as listImagesFor, pageImageRows as pageImagesFor } from "./image-rows";

export async function inspectImagesFor(ctx: Ctx, refs: string[]) {
  const found: Awaited<ReturnType<typeof inspectImage>>[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await inspectImage({ ...reader(ctx), ref }));
    } catch (err) {
      if ((err as { code?: string }).code === "NOT_FOUND") missing.push(ref);
      else throw err;
    }
  }
  return { images: found, missing };
}

export function historyFor(ctx: Ctx, ref: string, noTrunc = false) {
  return imageHistory({ ...reader(ctx), ref, noTrunc });
}

export function diskUsageFor(ctx: Ctx, verbose: boolean) {
  return diskUsage({ meta: reader(ctx).meta, verbose });
}

export function resolveImageFor(ctx: Ctx, ref: string) {
  return resolveImage({ meta: reader(ctx).meta, ref });
}

/** `docker tag`; moving a protected tag to another image is refused (audited as denied) unless an admin does it. */
export function tagImageFor(ctx: Ctx, source: string, target: string) {
  let policy: TagProtection | undefined;
  return audited(
    ctx,
    {
      action: "image.tag",
      targets: [{ ref: target }],
      details: { source },
      describe: (r) => ({
        targets: [{ ref: target, digestBefore: r.previous?.imageId.toString() ?? null, digestAfter: r.image.id.toString() }],
        details: policy?.auditDetails(),
      }),
    },
    (tx: Transaction) => {
      policy = new TagProtection(tx, ctx.actor);
      return tagImage({ meta: new PrismaMetadataStore(tx), source, target, policy });
    },
  );
}

/**
 * `docker rmi`. Per ref, a protected tag (unless an admin asks) or a pinned image fails that ref
 * with nothing of it removed, forced or not; the others still go. Each refusal of a protected tag
 * is also audited on its own as denied.
 */
export async function removeImagesFor(ctx: Ctx, refs: string[], force: boolean) {
  let policy: TagProtection | undefined;
  const result = await audited(
    ctx,
    {
      action: "image.remove",
      targets: refs.map((ref) => ({ ref })),
      details: { force },
      describe: (r) => {
        const targets = r.results.flatMap((entry) =>
          entry.records.map((item) =>
            "untagged" in item
              ? { ref: item.untagged, digestBefore: entry.imageId ?? null, digestAfter: null }
              : { ref: item.deleted, digestBefore: item.deleted, digestAfter: null },
          ),
        );
        // Refusals get a `denied` event each (below); other errors are this event's.
        const errors = r.results.filter((e) => e.error && e.error.code !== "FORBIDDEN").map((e) => `${e.ref}: ${e.error?.message}`);
        if (targets.length === 0 && errors.length === 0) return { skip: true };
        if (targets.length === 0) return { failed: errors.join("; "), targets: refs.map((ref) => ({ ref })) };
        return { targets, details: { ...(errors.length ? { errors } : {}), ...policy?.auditDetails() } };
      },
    },
    (tx: Transaction) => {
      policy = new TagProtection(tx, ctx.actor);
      return removeImages({ meta: new PrismaMetadataStore(tx), refs, force, policy });
    },
  );
  for (const r of result.results) {
    if (r.error?.code !== "FORBIDDEN") continue;
    await recordFailure(
      ctx,
      {
        action: "image.remove",
        targets: [{ ref: r.ref, digestBefore: r.imageId ?? null, digestAfter: r.imageId ?? null }],
        details: { force },
      },
      r.error,
      "denied",
    );
  }
  const freed = await collect(ctx, result.blobsToCheck);
  return {
    results: result.results.map((r) => ({ ref: r.ref, imageId: r.imageId, items: r.records, error: r.error?.message })),
    freed,
  };
}

export async function pruneImagesFor(ctx: Ctx, opts: { all: boolean; filters: Record<string, string[]>; dryRun: boolean }) {
  const run = (meta: MetadataStore) => pruneImages({ meta, ...opts });
  if (opts.dryRun) {
    const { blobsToCheck: _unused, ...report } = await run(reader(ctx).meta);
    return { ...report, freed: 0 };
  }
  const result = await audited(
    ctx,
    {
      action: "image.prune",
      details: { all: opts.all, filters: opts.filters },
      describe: (r) => ({
        targets: [
          ...r.untagged.map((ref) => ({ ref, digestAfter: null })),
          ...r.deleted.map((id) => ({ ref: id, digestBefore: id, digestAfter: null })),
        ],
        details: { spaceReclaimed: r.spaceReclaimed, ...(r.skipped.length ? { skipped: r.skipped } : {}) },
      }),
    },
    (tx: Transaction) => run(new PrismaMetadataStore(tx)),
  );
  const { blobsToCheck, ...report } = result;
  const freed = await collect(ctx, blobsToCheck);
  // Build cache entries whose image is gone can never hit again.
  await ctx.services.db.$executeRaw`DELETE FROM build_cache c WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = c.image_id)`;
  return { ...report, freed };
}
