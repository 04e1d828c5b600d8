import { familiarName, parseReference, planManifest, resolveImage } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import type { Context } from "../context";

/** An artifact (signature, SBOM, attestation) pushed to the registry API with the image as its subject. */
export interface ImageAttachment {
  /** Where it was pushed, as people name it (`team-a/app`). */
  repository: string;
  digest: string;
  artifactType: string;
  size: number;
  tags: string[];
  annotations: Record<string, string>;
  pushedAt: Date;
}

/**
 * What is attached to an image: artifacts whose `subject` is one of the image's manifests (the
 * ones it arrived or was pushed with, and the one Berth serves for it), newest first.
 */
export async function attachmentsFor(ctx: Pick<Context, "services">, ref: string): Promise<ImageAttachment[]> {
  const { db, blobs } = ctx.services;
  const image = await resolveImage({ meta: new PrismaMetadataStore(db), ref });
  const pushed = await db.imageManifest.findMany({ where: { imageId: image.id.toString() }, select: { digest: true } });
  const subjects = new Set(pushed.map((m) => m.digest));
  if (image.manifestDigest) subjects.add(image.manifestDigest.toString());
  subjects.add((await planManifest(blobs, image)).digest.toString());
  const rows = await db.artifact.findMany({
    where: { subject: { in: [...subjects] } },
    include: { tags: { select: { tag: true } } },
    orderBy: { createdAt: "desc" },
  });
  return rows.map((row) => ({
    repository: familiarName(parseReference(row.repository)),
    digest: row.digest,
    artifactType: row.artifactType,
    size: row.size,
    tags: row.tags.map((t) => t.tag).sort(),
    annotations: (row.annotations as Record<string, string> | null) ?? {},
    pushedAt: row.createdAt,
  }));
}
