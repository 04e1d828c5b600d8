import { listAuditEventsNaming, type AuditPage, type AuditTerm } from "@berth/db";
import { Digest, InvalidArgumentError } from "@berth/engine";
import type { Context } from "../context";

type Ctx = Pick<Context, "services">;

/**
 * An image's own history: events naming its ID or its manifest digest (before or after, or in a
 * reference), and events about the tags that point at it now (with what they pointed at before).
 * Works for a removed image too, by its ID.
 */
export async function imageHistoryFor(ctx: Ctx, input: { id: string; cursor?: string | undefined; limit: number }): Promise<AuditPage> {
  const id = Digest.tryParse(input.id);
  if (!id) throw new InvalidArgumentError(`invalid image ID "${input.id}": expected sha256: followed by 64 hex characters`);
  const image = await ctx.services.db.image.findUnique({
    where: { id: id.toString() },
    select: { manifestDigest: true, tags: { select: { repository: true, tag: true } } },
  });
  const terms: AuditTerm[] = [{ kind: "digest", value: id.toString() }];
  if (image?.manifestDigest) terms.push({ kind: "digest", value: image.manifestDigest });
  for (const t of image?.tags ?? []) terms.push({ kind: "reference", value: `${t.repository}:${t.tag}` });
  return listAuditEventsNaming(ctx.services.db, { terms, cursor: input.cursor, limit: input.limit });
}
