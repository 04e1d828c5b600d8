import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { protectedProcedure } from "../trpc";
import {
  historyFor,
  inspectImagesFor,
  listImagesFor,
  pruneImagesFor,
  removeImagesFor,
  tagImageFor,
} from "../services/images";

const ref = z.string().trim().min(1, "an image reference is required");
/** docker's `--filter key=value` pairs, grouped by key. */
const filters = z.record(z.string(), z.array(z.string())).default({});

export const imagesRouter = {
  list: protectedProcedure
    .input(z.object({ all: z.boolean().default(false), filters, reference: z.string().optional() }).default({ all: false, filters: {} }))
    .query(({ ctx, input }) => listImagesFor(ctx, input)),

  inspect: protectedProcedure
    .input(z.object({ refs: z.array(ref).min(1) }))
    .query(({ ctx, input }) => inspectImagesFor(ctx, input.refs)),

  history: protectedProcedure
    .input(z.object({ ref, noTrunc: z.boolean().default(false) }))
    .query(({ ctx, input }) => historyFor(ctx, input.ref, input.noTrunc)),

  tag: protectedProcedure
    .input(z.object({ source: ref, target: ref }))
    .mutation(({ ctx, input }) => tagImageFor(ctx, input.source, input.target)),

  remove: protectedProcedure
    .input(z.object({ refs: z.array(ref).min(1), force: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => removeImagesFor(ctx, input.refs, input.force)),

  prune: protectedProcedure
    .input(z.object({ all: z.boolean().default(false), filters, dryRun: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => pruneImagesFor(ctx, input)),
} satisfies TRPCRouterRecord;
