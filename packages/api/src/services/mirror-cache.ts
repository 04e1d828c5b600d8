import { familiarName, parseReference, resolveImage } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import type { Context } from "../context";

/** One tag or digest of an image that the pull-through mirror cached from a registry (docker.io, or another set up here). */
export interface MirrorCacheEntry {
  /** As people name it (`redis:7`, `redis@sha256:…`). */
  ref: string;
  /** The registry (`docker.io`, `ghcr.io`). */
  cachedFrom: string;
  upstreamDigest: string;
  lastPulledAt: Date;
  lastPulledBy: string;
  checkedAt: Date;
}

/**
 * What the image page says about an image the mirror brought in: which references, last pulled
 * when and by whom. Empty for an image that came any other way. Rows whose tag has since moved
 * to another image are not this image's any more and are left out.
 */
export async function mirrorCacheFor(ctx: Pick<Context, "services">, ref: string): Promise<MirrorCacheEntry[]> {
  const { db } = ctx.services;
  const image = await resolveImage({ meta: new PrismaMetadataStore(db), ref });
  const [rows, tags] = await Promise.all([
    db.mirrorCache.findMany({ where: { imageId: image.id.toString() }, orderBy: { pulledAt: "desc" } }),
    db.tag.findMany({ where: { imageId: image.id.toString() }, select: { repository: true, tag: true } }),
  ]);
  const tagged = new Set(tags.map((t) => `${t.repository}:${t.tag}`));
  const current = rows.filter((row) => row.reference.includes(":") || tagged.has(`${row.repository}:${row.reference}`));
  return current.map((row) => {
    const repository = parseReference(row.repository);
    const name = familiarName(repository);
    const digest = row.reference.includes(":");
    return {
      ref: `${name}${digest ? "@" : ":"}${row.reference}`,
      cachedFrom: repository.domain,
      upstreamDigest: row.upstreamDigest,
      lastPulledAt: row.pulledAt,
      lastPulledBy: row.pulledByName,
      checkedAt: row.checkedAt,
    };
  });
}
