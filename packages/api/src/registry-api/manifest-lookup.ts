import { Digest, isValidTag, planManifest, type ManifestPlan } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import type { Services } from "../context";
import { RegistryError } from "./errors";
import type { RegistryRepository } from "./names";

/** A manifest as served: its bytes exactly, their digest and media type. */
export interface ServedManifest {
  bytes: Buffer;
  digest: Digest;
  mediaType: string;
  imageId: Digest;
}

const served = (plan: ManifestPlan, imageId: Digest): ServedManifest => ({
  bytes: plan.bytes,
  digest: plan.digest,
  mediaType: plan.mediaType,
  imageId,
});

/**
 * The manifest `reference` (a tag or a digest) names in the repository. An image that arrived
 * with a manifest (pulled, pushed here, loaded from an OCI layout) is served with those bytes;
 * one loaded from a docker archive has none, and is served the manifest a push would build
 * for it (planManifest), whose digest is stable as long as the image is unchanged.
 */
export async function findManifest(services: Services, repo: RegistryRepository, reference: string): Promise<ServedManifest> {
  const meta = new PrismaMetadataStore(services.db);
  const unknown = () =>
    new RegistryError("MANIFEST_UNKNOWN", `manifest unknown: ${repo.name}:${reference}`, { name: repo.name, reference });
  if (reference.startsWith("sha256:") || reference.includes(":")) {
    const digest = Digest.tryParse(reference);
    if (!digest) throw new RegistryError("DIGEST_INVALID", `invalid digest: ${reference}`, { digest: reference });
    // Content addressed: an image that arrived with exactly these bytes, wherever it is tagged.
    const arrived = await services.db.image.findFirst({ where: { manifestDigest: digest.toString() }, select: { id: true } });
    const candidates = arrived ? [Digest.parse(arrived.id)] : [];
    // Built manifests have no stored digest: the repository's images are asked one by one.
    for (const tag of await meta.listTags({ repository: repo.repository })) {
      if (!candidates.some((c) => c.equals(tag.imageId))) candidates.push(tag.imageId);
    }
    for (const id of candidates) {
      const image = await meta.getImage(id);
      if (!image) continue;
      const plan = await planManifest(services.blobs, image);
      if (plan.digest.equals(digest)) return served(plan, image.id);
    }
    throw unknown();
  }
  if (!isValidTag(reference)) throw unknown();
  const tag = await meta.getTag(repo.repository, reference);
  const image = tag && (await meta.getImage(tag.imageId));
  if (!image) throw unknown();
  return served(await planManifest(services.blobs, image), image.id);
}
