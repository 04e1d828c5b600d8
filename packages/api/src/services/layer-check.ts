import { BlobNotFoundError, Digest, layerContent, measureStoredLayer, resolveImage, type LayerContent } from "@berth/engine";
import { enqueueJob, PrismaMetadataStore, type Database, type DbClient, type Transaction } from "@berth/db";
import type { Context, Services } from "../context";
import type { Actor } from "../auth/actor";
import { audited } from "../audit/record";
import { jobOrigin, type JobCtx, type JobOrigin, type RunJobOptions } from "./job-kinds";

/**
 * Layers pushed through `/v2/` are uploaded with their digest verified, as every registry does;
 * what a gzip layer uncompresses to (its diff_id, which the config claims, and its size) costs a
 * second decompress-and-hash of every byte. Up to this size it is learnt while the manifest PUT
 * waits; bigger layers are taken as their config says and checked by a `layer-check` job right
 * after the push is answered, so a GiB push does not pay for it on its way in.
 */
export const LAYER_CHECK_INLINE_BYTES = 16 * 1024 * 1024;

export function inlineCheckLimit(services: Services): number {
  return services.layerCheckInlineBytes ?? LAYER_CHECK_INLINE_BYTES;
}

/**
 * What a layer blob is already known to uncompress to, from a checked layer row naming it: pulls
 * and pushes need not read it again. Unchecked rows hold only what a config claims.
 */
export async function checkedLayer(db: DbClient, blob: Digest): Promise<KnownLayer | undefined> {
  return (await checkedLayers(db, [blob])).get(blob.toString());
}

export interface KnownLayer {
  diffId: Digest;
  size: number;
}

/** `checkedLayer` for all of a manifest's layers at once, by blob digest. */
export async function checkedLayers(db: DbClient, blobs: Digest[]): Promise<Map<string, KnownLayer>> {
  const known = new Map<string, KnownLayer>();
  if (blobs.length === 0) return known;
  // One row per blob (a base layer has a row in every image built on it).
  const rows = await db.$queryRaw<{ blob: string; diffId: string; size: bigint }[]>`
    SELECT w.blob, l.diff_id AS "diffId", l.size
    FROM unnest(${[...new Set(blobs.map(String))]}::text[]) AS w(blob)
    CROSS JOIN LATERAL (SELECT diff_id, size FROM image_layers WHERE blob = w.blob AND checked LIMIT 1) l`;
  for (const row of rows) {
    const diffId = Digest.tryParse(row.diffId);
    if (diffId) known.set(row.blob, { diffId, size: Number(row.size) });
  }
  return known;
}

export interface LayerCheckInput {
  /** The layer blob to check. */
  blob: string;
  /** What was pushed (`team/app:1.0`), for the audit. */
  ref: string;
}

/** Queues the check of layers pushed unchecked, in the push's own transaction. */
export async function queueLayerChecks(tx: Transaction, who: { actor: Actor; request: JobCtx["request"] }, ref: string, blobs: Digest[]) {
  for (const blob of new Set(blobs.map(String))) {
    const input: LayerCheckInput & JobOrigin = { blob, ref, ...jobOrigin(who) };
    await enqueueJob(tx, { kind: "layer-check", input: { ...input }, createdById: who.actor.userId, createdByName: who.actor.username });
  }
}

export interface LayerCheckOutcome {
  blob: string;
  /** What the blob uncompresses to; absent when it is not a readable layer (see `error`). */
  diffId?: string;
  size?: number;
  error?: string;
  /** Images whose config claims another diff_id for the blob: each now carries a `problem`. */
  mismatched: string[];
  /** Images whose layer rows were confirmed. */
  confirmed: string[];
  /** The blob went (its image removed) before it was checked. */
  removed?: boolean;
}

type Who = Pick<JobCtx, "actor" | "actorName" | "request"> & { services: Services };

/**
 * Measures one blob and settles every unchecked layer row naming it, in one transaction with its
 * audit event (under `who`, `failed` on a mismatch): rows whose diff_id it matches get its real
 * size (and their images' sizes are summed again); others mark their image with the reason it
 * cannot be trusted. Safe to run twice or at once (the second finds nothing to settle); run by
 * the job, and by a save that cannot wait for it.
 */
export async function checkLayer(who: Who, blob: Digest, ref: string, signal?: AbortSignal): Promise<LayerCheckOutcome> {
  const { services } = who;
  const nothing = { blob: blob.toString(), mismatched: [], confirmed: [] };
  if ((await services.db.imageLayer.count({ where: { blob: blob.toString(), checked: false } })) === 0) return nothing;
  let found: LayerContent;
  try {
    // Shared with loads and pulls: collection does not remove the blob while it is read.
    found = await services.blobLock.shared(async () => {
      const stat = await services.blobs.stat(blob);
      if (!stat) throw new BlobNotFoundError(blob.toString());
      return layerContent(await measureStoredLayer(services.blobs, blob, signal), { digest: blob, size: stat.size });
    });
  } catch (err) {
    if (err instanceof BlobNotFoundError) return { ...nothing, removed: true };
    throw err;
  }
  const claim = "diffId" in found ? `uncompresses to ${found.diffId.toString()}` : found.unreadable;
  return audited<LayerCheckOutcome>(
    who,
    {
      action: "image.layer-check",
      targets: [{ ref }],
      details: { blob: blob.toString() },
      describe: (outcome) => ({
        skip: outcome.confirmed.length + outcome.mismatched.length === 0,
        targets: [...outcome.confirmed, ...outcome.mismatched].map((id) => ({ ref, digestBefore: id, digestAfter: id })),
        details: { blob: blob.toString(), diffId: outcome.diffId ?? null, size: outcome.size ?? null },
        ...(outcome.mismatched.length ? { failed: `the layer ${claim}, not what the image's config lists` } : {}),
      }),
    },
    (tx) => settle(tx, blob, found, claim),
  );
}

async function settle(tx: Transaction, blob: Digest, found: LayerContent, claim: string) {
  // Locked, so a save and the job settling the same blob at once do it once: the second waits,
  // then finds the rows checked and has nothing to record.
  const rows = (
    await tx.$queryRaw<{ image_id: string; position: number; diff_id: string }[]>`
      SELECT image_id, position, diff_id FROM image_layers WHERE blob = ${blob.toString()} AND checked = false FOR UPDATE`
  ).map((r) => ({ imageId: r.image_id, position: r.position, diffId: r.diff_id }));
  const content: { diffId: string; size: number } | { error: string } =
    "diffId" in found ? { diffId: found.diffId.toString(), size: found.size } : { error: found.unreadable };
  const matches = (diffId: string) => "diffId" in content && content.diffId === diffId;
  const confirmed = [...new Set(rows.filter((r) => matches(r.diffId)).map((r) => r.imageId))];
  const mismatched = [...new Set(rows.filter((r) => !matches(r.diffId)).map((r) => r.imageId))];
  if ("diffId" in content) {
    await tx.imageLayer.updateMany({
      where: { blob: blob.toString(), checked: false, diffId: content.diffId },
      data: { size: BigInt(content.size), checked: true },
    });
  }
  for (const row of rows.filter((r) => !matches(r.diffId))) {
    await tx.image.update({
      where: { id: row.imageId },
      data: { problem: `layer ${row.position + 1} (${blob.toString()}) ${claim}, but the image's config lists ${row.diffId}` },
    });
  }
  // Settled either way: a mismatch is not checked again.
  await tx.imageLayer.updateMany({ where: { blob: blob.toString(), checked: false }, data: { checked: true } });
  if (confirmed.length) {
    await tx.$executeRaw`
      UPDATE images SET size = (SELECT COALESCE(SUM(size), 0) FROM image_layers WHERE image_id = images.id)
      WHERE id = ANY(${confirmed}::text[])`;
  }
  return { blob: blob.toString(), ...content, confirmed, mismatched };
}

/** Checks the unchecked layers of these images now (a save must write their real sizes). */
export async function checkImagesNow(who: Who, imageIds: string[]): Promise<void> {
  const rows = await who.services.db.imageLayer.findMany({
    where: { imageId: { in: imageIds }, checked: false },
    select: { blob: true, imageId: true },
    distinct: ["blob"],
  });
  for (const { blob, imageId } of rows) await checkLayer(who, Digest.parse(blob), imageId);
}

/** The `layer-check` job, run as whoever pushed the layer. */
export function runLayerCheck(ctx: JobCtx, input: LayerCheckInput, opts: RunJobOptions): Promise<LayerCheckOutcome> {
  const blob = Digest.parse(input.blob);
  opts.onProgress?.({ status: `Checking layer ${blob.toString()} of ${input.ref}` });
  return checkLayer(ctx, blob, input.ref, opts.signal);
}

/**
 * Queues again, as whoever pushed them, the checks of layers still unchecked whose last check
 * ended without settling them (failed on an I/O or database error, or cancelled while that was
 * still allowed), so such a failure delays a check rather than leaving the image "not checked
 * yet" for good. A server does this when it starts (every such check) and then every few minutes
 * (`retry`: only checks that ended a while ago, and not once a layer has failed that many times).
 * Replicas doing it at once may each queue one; the second to run finds nothing left to settle.
 * Returns how many were queued.
 */
export async function requeueLayerChecks(db: Database, retry?: { endedMsAgo: number; maxFailures: number }): Promise<number> {
  const endedMsAgo = retry?.endedMsAgo ?? 0;
  const maxFailures = retry?.maxFailures ?? null;
  const rows = await db.$queryRaw<{ input: Record<string, unknown>; created_by_id: string | null; created_by_name: string }[]>`
    SELECT l.input, l.created_by_id, l.created_by_name
    FROM (SELECT DISTINCT blob FROM image_layers WHERE NOT checked) u
    CROSS JOIN LATERAL (
      SELECT input, state, finished_at, created_by_id, created_by_name FROM jobs
      WHERE kind = 'layer-check' AND input->>'blob' = u.blob ORDER BY created_at DESC LIMIT 1
    ) l
    WHERE l.state IN ('failed', 'cancelled')
      AND (l.finished_at IS NULL OR l.finished_at <= now() - ${endedMsAgo} * interval '1 millisecond')
      AND (${maxFailures}::int IS NULL OR (SELECT count(*) FROM jobs f WHERE f.kind = 'layer-check' AND f.state = 'failed'
                                             AND f.input->>'blob' = u.blob) < ${maxFailures}::int)`;
  for (const row of rows) {
    await enqueueJob(db, { kind: "layer-check", input: row.input, createdById: row.created_by_id, createdByName: row.created_by_name });
  }
  return rows.length;
}

/** For the image page: why the image cannot be trusted, if it cannot, and how many of its layers wait for their check. */
export async function layerCheckStateFor(
  ctx: Pick<Context, "services">,
  ref: string,
): Promise<{ problem: string | null; unchecked: number }> {
  const { db } = ctx.services;
  const image = await resolveImage({ meta: new PrismaMetadataStore(db), ref });
  const id = image.id.toString();
  const row = await db.image.findUnique({ where: { id }, select: { problem: true } });
  return { problem: row?.problem ?? null, unchecked: await db.imageLayer.count({ where: { imageId: id, checked: false } }) };
}
