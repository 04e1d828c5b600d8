import { Digest, isValidTag, planManifest, type ManifestPlan } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import type { Services } from "../context";
import { RegistryError } from "./errors";
import type { RegistryRepository } from "./names";
import { holdsContent } from "./repository-content";

/** A manifest as served: its bytes exactly, their digest and media type. */
export interface ServedManifest {
  bytes: Buffer;
  digest: Digest;
  mediaType: string;
  /** The image; for an index, its default platform's image; none for an artifact. */
  imageId: Digest | null;
  /** Set when the manifest is a multi-platform index pushed here. */
  index?: true;
}

/** Manifests and indexes are a few KiB; the cap is the one they are pushed under. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** An artifact pushed to this repository (push-artifact.ts), by its digest. */
async function servedArtifact(services: Services, repo: RegistryRepository, digest: Digest): Promise<ServedManifest | undefined> {
  const row = await services.db.artifact.findUnique({
    where: { repository_digest: { repository: repo.repository, digest: digest.toString() } },
  });
  if (!row) return undefined;
  const bytes = await services.blobs.read(digest, MAX_MANIFEST_BYTES);
  return { bytes, digest, mediaType: row.mediaType, imageId: null };
}

/** An index pushed here, served as the image `imageId` (its default platform's) for deletes. */
async function servedIndex(services: Services, digest: Digest, imageId: string): Promise<ServedManifest | undefined> {
  const row = await services.db.manifestIndex.findUnique({ where: { digest: digest.toString() } });
  if (!row) return undefined;
  const bytes = await services.blobs.read(digest, MAX_MANIFEST_BYTES);
  return { bytes, digest, mediaType: row.mediaType, imageId: Digest.parse(imageId), index: true };
}

/** A manifest pushed here (an image may have several: OCI and Docker), by its digest. */
async function servedPushed(services: Services, digest: Digest): Promise<ServedManifest | undefined> {
  const row = await services.db.imageManifest.findUnique({ where: { digest: digest.toString() } });
  if (!row || !(await services.blobs.has(digest))) return undefined;
  const bytes = await services.blobs.read(digest, MAX_MANIFEST_BYTES);
  return { bytes, digest, mediaType: row.mediaType, imageId: Digest.parse(row.imageId) };
}

const served = (plan: ManifestPlan, imageId: Digest): ServedManifest => ({
  bytes: plan.bytes,
  digest: plan.digest,
  mediaType: plan.mediaType,
  imageId,
});

/**
 * The manifest `reference` (a tag or a digest) names in the repository. An index or manifest
 * pushed here is served as pushed. An image that arrived with a manifest (pulled, loaded from an
 * OCI layout) is served with those bytes;
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
    const candidates: Digest[] = [];
    // Stored once for the store, served only where it was pushed or is named (repository-content.ts).
    if (await holdsContent(services.db, repo.repository, digest)) {
      const child = await services.db.manifestIndexChild.findFirst({
        where: { indexDigest: digest.toString() },
        orderBy: { position: "asc" },
      });
      const found =
        (child && (await servedIndex(services, digest, child.imageId))) ||
        (await servedPushed(services, digest)) ||
        (await servedArtifact(services, repo, digest));
      if (found) return found;
      // An image that arrived with exactly these bytes (pulled, loaded from an OCI layout).
      const arrived = await services.db.image.findFirst({ where: { manifestDigest: digest.toString() }, select: { id: true } });
      if (arrived) candidates.push(Digest.parse(arrived.id));
    }
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
  // One read of the tag: its image, and the index or manifest it was pushed with (if pushed here).
  const tag = await services.db.tag.findUnique({
    where: { repository_tag: { repository: repo.repository, tag: reference } },
    select: { imageId: true, indexDigest: true, manifestDigest: true },
  });
  if (!tag) {
    // A name is an image's or an artifact's: images, the common case, are asked first.
    const artifactTag = await services.db.artifactTag.findUnique({
      where: { repository_tag: { repository: repo.repository, tag: reference } },
    });
    const artifact = artifactTag && (await servedArtifact(services, repo, Digest.parse(artifactTag.digest)));
    if (artifact) return artifact;
    throw unknown();
  }
  if (tag.indexDigest) {
    const index = await servedIndex(services, Digest.parse(tag.indexDigest), tag.imageId);
    if (index) return index;
  }
  if (tag.manifestDigest) {
    const manifest = await servedPushed(services, Digest.parse(tag.manifestDigest));
    if (manifest?.imageId?.toString() === tag.imageId) return manifest;
  }
  const image = await meta.getImage(Digest.parse(tag.imageId));
  if (!image) throw unknown();
  return served(await planManifest(services.blobs, image), image.id);
}
