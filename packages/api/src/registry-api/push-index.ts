import { Digest, parseIndex, setTagChecked, TagChangeDeniedError, type Descriptor, type ImageIndex } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import { audited } from "../audit/record";
import { TagProtection } from "../services/tag-protection";
import type { RegistryCtx } from "./caller";
import { RegistryError } from "./errors";
import type { RegistryRepository } from "./names";
import { heldAmong, linkContent } from "./repository-content";

/** A manifest PUT as push-manifest.ts read and checked it, handed on to push-index.ts or push-artifact.ts. */
export interface ManifestPut {
  repo: RegistryRepository;
  /** The tag, or undefined for a push by digest. */
  tag: string | undefined;
  /** `team/app:1.0` or `team/app@sha256:…`, for the audit. */
  display: string;
  bytes: Buffer;
  digest: Digest;
  mediaType: string;
}

interface Child {
  position: number;
  manifestDigest: string;
  imageId: string;
  platform: string;
}

const platformText = (d: Descriptor) =>
  d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join("/") : "unknown";

/**
 * A multi-platform image (`skopeo copy --all`, `docker buildx --push`): every manifest the index
 * lists must have been pushed before it, as an image. The index is kept byte for byte and, for
 * a tag, the tag names it: the registry API serves the index, the dashboard shows the default
 * platform's image (linux/amd64, else the first), and every listed image is kept while tagged.
 */
export async function putIndex(ctx: RegistryCtx, push: ManifestPut): Promise<void> {
  let index: ImageIndex;
  try {
    index = parseIndex(push.bytes);
  } catch (err) {
    throw new RegistryError("MANIFEST_INVALID", (err as Error).message);
  }
  if (index.manifests.length === 0) throw new RegistryError("MANIFEST_INVALID", "the index lists no manifests");
  const children: Child[] = [];
  const held = await heldAmong(
    ctx.services.db,
    push.repo.repository,
    index.manifests.map((m) => m.digest),
  );
  for (const [position, desc] of index.manifests.entries()) {
    const image = held.has(desc.digest.toString()) ? await imageWithManifest(ctx, desc.digest) : null;
    if (!image) {
      throw new RegistryError(
        "MANIFEST_BLOB_UNKNOWN",
        `the index's manifests[${position}] ${desc.digest.toString()} (${platformText(desc)}) was not pushed to ${push.repo.name}: push each platform's manifest first`,
        { digest: desc.digest.toString() },
      );
    }
    children.push({ position, manifestDigest: desc.digest.toString(), imageId: image.id, platform: platformText(desc) });
  }
  const shown = children.find((c) => c.platform === "linux/amd64" || c.platform.startsWith("linux/amd64/")) ?? children[0]!;
  const { repo, tag, digest } = push;
  let policy: TagProtection | undefined;
  // Shared with pulls and loads, exclusive to blob collection, as an image push.
  await ctx.services.blobLock.shared(async () => {
    await ctx.services.blobs.put(push.bytes);
    try {
      await audited<{ ref: string; digestBefore: string | null; digestAfter: string }[]>(
        ctx,
        {
          action: "image.push",
          targets: [{ ref: push.display }],
          details: { indexDigest: digest.toString(), mediaType: push.mediaType, platforms: children.map((c) => c.platform) },
          describe: (targets) => ({ targets, details: policy?.auditDetails() }),
        },
        async (tx) => {
          await tx.manifestIndex.upsert({
            where: { digest: digest.toString() },
            create: { digest: digest.toString(), mediaType: push.mediaType, size: push.bytes.length, children: { create: children } },
            update: {},
          });
          await linkContent(tx, repo.repository, [digest]);
          if (tag === undefined) return [{ ref: push.display, digestBefore: null, digestAfter: digest.toString() }];
          const meta = new PrismaMetadataStore(tx);
          policy = new TagProtection(tx, ctx.actor);
          const before = await tx.tag.findUnique({ where: { repository_tag: { repository: repo.repository, tag } } });
          await setTagChecked({ meta, repository: repo.repository, tag, imageId: Digest.parse(shown.imageId), policy });
          await tx.tag.update({
            where: { repository_tag: { repository: repo.repository, tag } },
            data: { indexDigest: digest.toString() },
          });
          await meta.updateImage(Digest.parse(shown.imageId), { lastTagTime: new Date() });
          return [
            { ref: push.display, digestBefore: before ? (before.indexDigest ?? before.imageId) : null, digestAfter: digest.toString() },
          ];
        },
      );
    } catch (err) {
      if (err instanceof TagChangeDeniedError) throw new RegistryError("DENIED", err.message, { tag });
      throw err;
    }
  });
}

/** The image a manifest digest is: one pushed with it, or one that arrived with it (pulled, loaded). */
async function imageWithManifest(ctx: RegistryCtx, digest: Digest): Promise<{ id: string } | null> {
  const pushed = await ctx.services.db.imageManifest.findUnique({ where: { digest: digest.toString() }, select: { imageId: true } });
  if (pushed) return { id: pushed.imageId };
  return ctx.services.db.image.findFirst({ where: { manifestDigest: digest.toString() }, select: { id: true } });
}
