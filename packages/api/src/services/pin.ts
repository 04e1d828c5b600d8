import { resolveImage } from "@berth/engine";
import { PrismaMetadataStore, type Transaction } from "@berth/db";
import type { Context } from "../context";
import { audited } from "../audit/record";

type Ctx = Pick<Context, "services" | "request" | "actor">;

/**
 * Pins or unpins an image. A pinned image is never pruned and `rmi` refuses to delete it
 * (by ID, or by its last tag), forced or not, until someone unpins it.
 */
export function setPinnedFor(ctx: Ctx, ref: string, pinned: boolean) {
  return audited(
    ctx,
    {
      action: pinned ? "image.pin" : "image.unpin",
      targets: [{ ref }],
      describe: (r) => ({
        targets: [{ ref, digestBefore: r.id, digestAfter: r.id }],
        details: { before: { pinned: r.before }, after: { pinned } },
      }),
    },
    async (tx: Transaction) => {
      const meta = new PrismaMetadataStore(tx);
      const image = await resolveImage({ meta, ref });
      if (image.pinned !== pinned) await meta.updateImage(image.id, { pinned });
      return { id: image.id.toString(), pinned, before: image.pinned };
    },
  );
}
