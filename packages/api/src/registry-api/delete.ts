import { familiarRepository } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import { audited } from "../audit/record";
import { removeImagesFor } from "../services/images";
import { requireScope, type RegistryCtx } from "./caller";
import { API_VERSION_HEADER, RegistryError } from "./errors";
import { findManifest } from "./manifest-lookup";
import { registryRepository } from "./names";
import { parseBlobDigest } from "./read-endpoints";

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
  if (reference.includes(":")) {
    const manifest = await findManifest(ctx.services, repo, reference);
    const tags = manifest.index
      ? await ctx.services.db.tag.findMany({ where: { repository: repo.repository, indexDigest: manifest.digest.toString() } })
      : await new PrismaMetadataStore(ctx.services.db).listTags({ repository: repo.repository, imageId: manifest.imageId });
    refs = tags.map((t) => `${familiar}:${t.tag}`);
  } else {
    await findManifest(ctx.services, repo, reference);
    refs = [`${familiar}:${reference}`];
  }
  if (refs.length === 0) throw new RegistryError("MANIFEST_UNKNOWN", `no tag of ${name} names ${reference}`, { name, reference });
  const removed = await removeImagesFor(ctx, refs, false);
  const failed = removed.results.find((r) => r.error);
  if (failed) throw new RegistryError("DENIED", failed.error!, { reference: failed.ref });
  return accepted();
}

/**
 * DELETE `/v2/<name>/blobs/<digest>`: blobs are shared by every repository of the store, so only
 * one no image uses (an abandoned upload's result) is deleted; others are removed with their images.
 */
export async function deleteBlob(ctx: RegistryCtx, name: string, digestText: string): Promise<Response> {
  const repo = registryRepository(name);
  await requireScope(ctx, repo, "delete", "blob.delete");
  const digest = parseBlobDigest(digestText);
  if (!(await ctx.services.blobs.has(digest)))
    throw new RegistryError("BLOB_UNKNOWN", `blob unknown: ${digest.toString()}`, { digest: digest.toString() });
  const meta = new PrismaMetadataStore(ctx.services.db);
  if (await meta.isBlobReferenced(digest)) {
    throw new RegistryError("UNSUPPORTED", `blob ${digest.toString()} belongs to an image: delete the image's manifest instead`, {
      digest: digest.toString(),
    });
  }
  await ctx.services.blobLock.exclusive(() =>
    audited(ctx, { action: "blob.delete", targets: [{ ref: `${repo.name}@${digest.toString()}` }] }, async () => {
      await ctx.services.blobs.delete(digest);
    }),
  );
  return accepted();
}
