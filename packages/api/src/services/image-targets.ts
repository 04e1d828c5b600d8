import { familiarRepository, isImageIdPrefix, resolveImage, tryParseReference } from "@berth/engine";
import type { Context } from "../context";
import type { Check } from "../auth/guard";

/**
 * What `rmi REF` would touch, for the permission check before it runs: a name untags that name
 * (its namespace counts); an ID or `name@digest` deletes the image with every tag it has (each
 * tag's namespace counts; a dangling image has none and is judged with the default role).
 * A ref that resolves to nothing is judged by its own namespace; the removal then reports it missing.
 */
export async function removalTargets(ctx: Pick<Context, "services">, refs: readonly string[]): Promise<Check[]> {
  const meta = ctx.services.reads;
  const checks: Check[] = [];
  for (const ref of refs) {
    const image = await resolveImage({ meta, ref }).catch(() => undefined);
    const parsed = tryParseReference(ref);
    if (!image || (parsed && !parsed.digest && !isImageIdPrefix(image, ref))) {
      checks.push({ ref });
      continue;
    }
    const tags = await meta.listTags({ imageId: image.id });
    if (tags.length === 0) checks.push({ namespace: null });
    for (const t of tags) checks.push({ ref: `${familiarRepository(t.repository)}:${t.tag}` });
  }
  return checks;
}
