import { Digest, familiarRepository, gcBlobs } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import { audited } from "../audit/record";
import { removeImagesFor } from "../services/images";
import { requireScope, type RegistryCtx } from "./caller";
import { API_VERSION_HEADER, RegistryError } from "./errors";
import { findManifest } from "./manifest-lookup";
import { registryRepository, type RegistryRepository } from "./names";
import { parseBlobDigest } from "./read-endpoints";
import { holdsContent, unlinkContent } from "./repository-content";

const accepted = () => new Response(null, { status: 202, headers: { ...API_VERSION_HEADER, "content-length": "0" } });

/**
 * DELETE `/v2/<name>/manifests/<reference>`: `docker rmi` of the tag (or of every tag of the
 * repository naming that digest), with its rules: protected tags and pinned images stay, the
 * image goes with its last tag, and each change or refusal is audited as `image.remove`.
 */
export async function deleteManifest(ctx: RegistryCtx, name: string, reference: string): Promise<Response> {
  const repo = registryRepository(name);
  await requireScope(ctx, repo, "delete", "image.remove");
  const familiar = familiarRepository(repo.repository);
  let refs: string[];
  const manifest = await findManifest(ctx.services, repo, reference);
  if (manifest.imageId === null) {
    await deleteArtifact(ctx, repo, reference, manifest.digest);
    return accepted();
  }
  if (reference.includes(":")) {
    const tags = manifest.index
      ? await ctx.services.db.tag.findMany({ where: { repository: repo.repository, indexDigest: manifest.digest.toString() } })
      : await new PrismaMetadataStore(ctx.services.db).listTags({ repository: repo.repository, imageId: manifest.imageId });
    refs = tags.map((t) => `${familiar}:${t.tag}`);
  } else {
    refs = [`${familiar}:${reference}`];
  }
  if (refs.length === 0) throw new RegistryError("MANIFEST_UNKNOWN", `no tag of ${name} names ${reference}`, { name, reference });
  const removed = await removeImagesFor(ctx, refs, false);
  const failed = removed.results.find((r) => r.error);
  if (failed) throw new RegistryError("DENIED", failed.error!, { reference: failed.ref });
  return accepted();
}

/**
 * An artifact's manifest: by digest the artifact goes (with its tags; its blobs once nothing else
 * uses them), by tag only the tag. Audited as `artifact.remove`.
 */
async function deleteArtifact(ctx: RegistryCtx, repo: RegistryRepository, reference: string, digest: Digest): Promise<void> {
  const byDigest = reference.includes(":");
  const ref = `${familiarRepository(repo.repository)}${byDigest ? "@" : ":"}${reference}`;
  const blobs = await ctx.services.blobLock.exclusive(() =>
    audited(ctx, { action: "artifact.remove", targets: [{ ref, digestBefore: digest.toString(), digestAfter: null }] }, async (tx) => {
      if (!byDigest) {
        await tx.artifactTag.deleteMany({ where: { repository: repo.repository, tag: reference } });
        return [];
      }
      const row = await tx.artifact.delete({ where: { repository_digest: { repository: repo.repository, digest: digest.toString() } } });
      return [digest.toString(), ...row.blobs];
    }),
  );
  // Collected after the transaction: a blob another image or artifact names stays.
  await ctx.services.blobLock.exclusive(async () => {
    await gcBlobs({
      meta: new PrismaMetadataStore(ctx.services.db),
      blobs: ctx.services.blobs,
      candidates: blobs.map((b) => Digest.parse(b)),
    });
  });
}

/**
 * DELETE `/v2/<name>/blobs/<digest>`: blobs are shared by every repository of the store, so only
 * one no image uses (an abandoned upload's result) is deleted, from this repository, and from the
 * store once no other repository was pushed it; others are removed with their images.
 */
export async function deleteBlob(ctx: RegistryCtx, name: string, digestText: string): Promise<Response> {
  const repo = registryRepository(name);
  await requireScope(ctx, repo, "delete", "blob.delete");
  const digest = parseBlobDigest(digestText);
  if (!(await holdsContent(ctx.services.db, repo.repository, digest)) || !(await ctx.services.blobs.has(digest)))
    throw new RegistryError("BLOB_UNKNOWN", `blob unknown: ${digest.toString()}`, { digest: digest.toString() });
  await ctx.services.blobLock.exclusive(async () => {
    if (await new PrismaMetadataStore(ctx.services.db).isBlobReferenced(digest, { uploads: false })) {
      throw new RegistryError("UNSUPPORTED", `blob ${digest.toString()} belongs to an image: delete the image's manifest instead`, {
        digest: digest.toString(),
      });
    }
    await audited(ctx, { action: "blob.delete", targets: [{ ref: `${repo.name}@${digest.toString()}` }] }, async (tx) => {
      // Gone from this repository; from the store only when no other repository was pushed it too
      // and no upload in progress holds those bytes.
      const lastLink = await unlinkContent(tx, repo.repository, digest);
      if (lastLink && !(await new PrismaMetadataStore(tx).isBlobReferenced(digest))) await ctx.services.blobs.delete(digest);
    });
  });
  return accepted();
}
