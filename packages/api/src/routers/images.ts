import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { protectedProcedure } from "../trpc";
import {
  historyFor,
  inspectImagesFor,
  listImagesFor,
  pageImagesFor,
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

  /** The dashboard's table: searched, filtered, sorted and paged on the server. */
  page: protectedProcedure
    .input(
      z.object({
        search: z.string().max(300).default(""),
        show: z.enum(["all", "tagged", "dangling"]).default("all"),
        sort: z
          .object({
            column: z.enum(["repository", "tag", "id", "created", "size", "sharedSize", "uniqueSize"]),
            dir: z.enum(["asc", "desc"]),
          })
          .default({ column: "created", dir: "desc" }),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
      }),
    )
    .query(({ ctx, input }) => pageImagesFor(ctx, input)),

  inspect: protectedProcedure.input(z.object({ refs: z.array(ref).min(1) })).query(({ ctx, input }) => inspectImagesFor(ctx, input.refs)),

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
