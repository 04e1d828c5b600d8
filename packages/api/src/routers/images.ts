import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { permittedProcedure } from "../trpc";
import { removalTargets } from "../services/image-targets";
import { pinProcedures } from "./pin";
import { imageEditProcedures } from "./image-edit";
import { mirrorCacheFor } from "../services/mirror-cache";
import { attachmentsFor } from "../services/image-attachments";
import { layerCheckStateFor } from "../services/layer-check";
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
  list: permittedProcedure("read", {
    input: z.object({ all: z.boolean().default(false), filters, reference: z.string().optional() }).default({ all: false, filters: {} }),
  }).query(({ ctx, input }) => listImagesFor(ctx, input)),

  /** The dashboard's table: searched, filtered, sorted and paged on the server. */
  page: permittedProcedure("read", {
    input: z.object({
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
  }).query(({ ctx, input }) => pageImagesFor(ctx, input)),

  inspect: permittedProcedure("read", {
    input: z.object({ refs: z.array(ref).min(1) }),
    targets: (input) => input.refs.map((r) => ({ ref: r })),
  }).query(({ ctx, input }) => inspectImagesFor(ctx, input.refs)),

  /** The references of an image the pull-through mirror cached from docker.io (empty for any other image). */
  mirrorCache: permittedProcedure("read", {
    input: z.object({ ref }),
    targets: (input) => [{ ref: input.ref }],
  }).query(({ ctx, input }) => mirrorCacheFor(ctx, input.ref)),

  /** Whether the image's pushed layers were checked against its config (services/layer-check.ts). */
  layerCheck: permittedProcedure("read", {
    input: z.object({ ref }),
    targets: (input) => [{ ref: input.ref }],
  }).query(({ ctx, input }) => layerCheckStateFor(ctx, input.ref)),

  /** Artifacts (signatures, SBOMs) pushed to the registry API with this image as their subject. */
  attachments: permittedProcedure("read", {
    input: z.object({ ref }),
    targets: (input) => [{ ref: input.ref }],
  }).query(({ ctx, input }) => attachmentsFor(ctx, input.ref)),

  history: permittedProcedure("read", {
    input: z.object({ ref, noTrunc: z.boolean().default(false) }),
    targets: (input) => [{ ref: input.ref }],
  }).query(({ ctx, input }) => historyFor(ctx, input.ref, input.noTrunc)),

  /** Needs `tag` in the target's namespace (moving an existing tag too). */
  tag: permittedProcedure("tag", {
    input: z.object({ source: ref, target: ref }),
    targets: (input) => [{ ref: input.target }],
    audit: "image.tag",
  }).mutation(({ ctx, input }) => tagImageFor(ctx, input.source, input.target)),

  /** Needs `remove` in the namespace of every tag it would remove (an ID: every tag of the image). */
  remove: permittedProcedure("remove", {
    input: z.object({ refs: z.array(ref).min(1), force: z.boolean().default(false) }),
    targets: (input, ctx) => removalTargets(ctx, input.refs),
    audit: "image.remove",
  }).mutation(({ ctx, input }) => removeImagesFor(ctx, input.refs, input.force)),

  /** Concerns no single namespace: judged with the default role. */
  prune: permittedProcedure("prune", {
    input: z.object({ all: z.boolean().default(false), filters, dryRun: z.boolean().default(false) }),
    audit: "image.prune",
  }).mutation(({ ctx, input }) => pruneImagesFor(ctx, input)),

  ...pinProcedures,
  ...imageEditProcedures,
} satisfies TRPCRouterRecord;
