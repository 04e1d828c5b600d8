import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { setPinnedFor } from "../services/pin";
import { permittedProcedure } from "../trpc";

const input = z.object({ ref: z.string().trim().min(1, "an image reference is required") });

/**
 * `images.pin` / `images.unpin`: need `pin` (maintainer) in the namespace of the reference given;
 * an image ID names no namespace, so pinning by ID is judged with the default role.
 */
export const pinProcedures = {
  pin: permittedProcedure("pin", { input, targets: (i) => [{ ref: i.ref }], audit: "image.pin" }).mutation(({ ctx, input }) =>
    setPinnedFor(ctx, input.ref, true),
  ),

  unpin: permittedProcedure("pin", { input, targets: (i) => [{ ref: i.ref }], audit: "image.unpin" }).mutation(({ ctx, input }) =>
    setPinnedFor(ctx, input.ref, false),
  ),
} satisfies TRPCRouterRecord;
