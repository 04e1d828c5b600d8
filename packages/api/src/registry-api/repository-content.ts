import { Digest } from "@berth/engine";
import { AWAITING_MANIFEST_HOURS, PrismaMetadataStore, type DbClient } from "@berth/db";
import type { Services } from "../context";
import type { RegistryCtx } from "./caller";
import { RegistryError } from "./errors";
import type { RegistryRepository } from "./names";

/**
 * Blobs and manifests are stored once for the whole store, but a repository serves (and lets a
 * manifest name) only the content it holds, as the distribution registry does with its per-
 * repository links: otherwise anyone who may pull one repository, or anonymous callers of a
 * public one, could read any other repository's layers by their digest, and a push could adopt
 * them without ever having had the bytes.
 *
 * A repository holds what was pushed to it through /v2/ (uploaded, mounted from a repository the
 * caller may pull, a manifest pushed by digest: `repository_content`) and whatever its tags,
 * mirror fills and artifacts name (so pulls, loads, tags and builds need no rows of their own).
 */
export async function holdsContent(db: DbClient, repository: string, digest: Digest): Promise<boolean> {
  return (await heldAmong(db, repository, [digest])).has(digest.toString());
}

/**
 * Which of these digests the repository holds: one call of the database's `repository_holds`
 * (its migration has the rules), which looks past the repository's pushed content only for the
 * digests not found there.
 */
export async function heldAmong(db: DbClient, repository: string, digests: Digest[]): Promise<Set<string>> {
  const wanted = [...new Set(digests.map(String))];
  if (wanted.length === 0) return new Set();
  const rows = await db.$queryRaw<{ d: string }[]>`SELECT d FROM repository_holds(${repository}, ${wanted}::text[]) AS d`;
  return new Set(rows.map((r) => r.d));
}

/** Records content as pushed to the repository (idempotent). */
export async function linkContent(db: DbClient, repository: string, digests: Digest[]): Promise<void> {
  if (digests.length === 0) return;
  const data = [...new Set(digests.map(String))].map((digest) => ({ repository, digest }));
  await db.repositoryContent.createMany({ data, skipDuplicates: true });
}

/**
 * What a pushed image manifest leaves in the database besides the image: its row (it is served
 * as pushed), the repository's hold on it, its blobs no longer awaiting it, and the image's own
 * manifest when the image arrived without one (a docker archive). One statement: a push is a
 * dozen requests, and each round trip to the database adds to every one a CI job makes.
 */
export async function recordPushedManifest(
  db: DbClient,
  pushed: { repository: string; digest: Digest; mediaType: string; imageId: Digest; blobs: Digest[] },
): Promise<void> {
  const digest = pushed.digest.toString();
  const imageId = pushed.imageId.toString();
  // The sub-statements touch different rows (the manifest is not one of its own blobs), so running
  // them together, unable to see each other's changes, is what running them in turn would do.
  await db.$executeRaw`
    WITH manifest AS (
      INSERT INTO image_manifests (digest, image_id, media_type, created_at)
      VALUES (${digest}, ${imageId}, ${pushed.mediaType}, now())
      ON CONFLICT (digest) DO NOTHING
    ), held AS (
      INSERT INTO repository_content (repository, digest) VALUES (${pushed.repository}, ${digest})
      ON CONFLICT (repository, digest) DO NOTHING
    ), settled AS (
      UPDATE repository_content SET awaiting_manifest_since = NULL
      WHERE repository = ${pushed.repository} AND digest = ANY(${pushed.blobs.map(String)}::text[])
        AND awaiting_manifest_since IS NOT NULL
    )
    UPDATE images SET manifest_digest = ${digest}, manifest_media_type = ${pushed.mediaType}
    WHERE id = ${imageId} AND manifest_digest IS NULL`;
}

/**
 * Records a blob as uploaded (or mounted) to the repository and awaiting the manifest that will
 * name it: until one does (a day at most), blob collection keeps it, though no image uses it yet.
 * Call it under the blob lock, with the commit that put the bytes in the store.
 */
export async function linkUpload(db: DbClient, repository: string, digest: Digest): Promise<void> {
  await db.$executeRaw`
    INSERT INTO repository_content (repository, digest, awaiting_manifest_since)
    VALUES (${repository}, ${digest.toString()}, clock_timestamp())
    ON CONFLICT (repository, digest) DO UPDATE SET awaiting_manifest_since = EXCLUDED.awaiting_manifest_since`;
}

/**
 * Blobs uploaded or mounted to a repository whose manifest has not come for AWAITING_MANIFEST_HOURS
 * were abandoned: the repository lets go of them, and the store deletes those nothing else uses or
 * holds. Returns how many blobs left the store.
 */
export async function dropAbandonedContent(services: Pick<Services, "db" | "blobs" | "blobLock">): Promise<number> {
  const { db, blobs, blobLock } = services;
  const expired = await db.$queryRaw<{ digest: string }[]>`
    SELECT DISTINCT digest FROM repository_content
    WHERE awaiting_manifest_since <= now() - ${AWAITING_MANIFEST_HOURS} * interval '1 hour'`;
  let deleted = 0;
  for (const { digest } of expired) {
    // Exclusive, as collection is: no upload or load may be between committing these bytes and recording them.
    const gone = await blobLock.exclusive(() =>
      db.$transaction(async (tx) => {
        const dropped = await tx.$executeRaw`
          DELETE FROM repository_content
          WHERE digest = ${digest} AND awaiting_manifest_since <= now() - ${AWAITING_MANIFEST_HOURS} * interval '1 hour'`;
        if (dropped === 0 || (await tx.repositoryContent.count({ where: { digest } })) > 0) return false;
        if (await new PrismaMetadataStore(tx).isBlobReferenced(Digest.parse(digest))) return false;
        await blobs.delete(Digest.parse(digest));
        return true;
      }),
    );
    if (gone) deleted++;
  }
  return deleted;
}

/** A manifest pushed to the repository names these blobs: they no longer await one (see linkUpload). */
export async function settleUploads(db: DbClient, repository: string, digests: Digest[]): Promise<void> {
  await db.$executeRaw`
    UPDATE repository_content SET awaiting_manifest_since = NULL
    WHERE repository = ${repository} AND digest = ANY(${digests.map(String)}::text[]) AND awaiting_manifest_since IS NOT NULL`;
}

/** Forgets content pushed to the repository; true when no repository is left that was pushed it. */
export async function unlinkContent(db: DbClient, repository: string, digest: Digest): Promise<boolean> {
  await db.repositoryContent.deleteMany({ where: { repository, digest: digest.toString() } });
  return (await db.repositoryContent.count({ where: { digest: digest.toString() } })) === 0;
}

/**
 * The blobs a manifest names must be in the store and held by the repository (pushed or mounted
 * there, or named by it); else MANIFEST_BLOB_UNKNOWN naming the first missing one.
 */
export async function requireBlobs(ctx: RegistryCtx, repo: RegistryRepository, blobs: { digest: Digest; what: string }[]): Promise<void> {
  const held = await heldAmong(
    ctx.services.db,
    repo.repository,
    blobs.map((b) => b.digest),
  );
  const stored = await Promise.all(blobs.map(async ({ digest }) => held.has(digest.toString()) && (await ctx.services.blobs.has(digest))));
  for (const [i, { digest, what }] of blobs.entries()) {
    if (!stored[i])
      throw new RegistryError("MANIFEST_BLOB_UNKNOWN", `the manifest's ${what} ${digest.toString()} was not uploaded to ${repo.name}`, {
        digest: digest.toString(),
      });
  }
}
