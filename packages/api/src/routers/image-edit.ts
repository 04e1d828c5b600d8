import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { commitImageFor, readImageFileFor } from "../services/image-edit";
import { permittedProcedure, publicProcedure } from "../trpc";

/** The dashboard's editor writes a few small files, not a rootfs: larger changes go through `berth commit` with a tarball. */
const MAX_FILES = 50;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_TOTAL_BYTES = 4 * 1024 * 1024;

const file = z.object({
  path: z.string().trim().min(1, "a file path is required").max(4096),
  /** The content, base64-encoded. */
  content: z.string().max(Math.ceil(MAX_FILE_BYTES / 3) * 4 + 4, `a file may hold at most ${MAX_FILE_BYTES} bytes`),
  mode: z.number().int().min(0).max(0o7777).optional(),
});

const input = z
  .object({
    base: z.string().trim().min(1, "name the base image"),
    reference: z.string().trim().min(1).optional(),
    files: z.array(file).max(MAX_FILES, `at most ${MAX_FILES} files per commit`).default([]),
    deletes: z.array(z.string().trim().min(1)).max(1000).default([]),
    message: z.string().max(10_000).optional(),
    author: z.string().max(1000).optional(),
    changes: z.array(z.string().max(10_000)).max(100).default([]),
  })
  .transform((value, check) => {
    let total = 0;
    const files = value.files.map((f) => {
      const content = Buffer.from(f.content, "base64");
      total += content.byteLength;
      if (content.byteLength > MAX_FILE_BYTES)
        check.addIssue({ code: "custom", message: `${f.path}: a file may hold at most ${MAX_FILE_BYTES} bytes` });
      return { path: f.path, content, mode: f.mode };
    });
    if (total > MAX_TOTAL_BYTES) check.addIssue({ code: "custom", message: `the files add up to more than ${MAX_TOTAL_BYTES} bytes` });
    return { ...value, files };
  });

/**
 * `images.commitFiles`: the dashboard's small file editor on top of an image (add or replace files,
 * delete paths) → a new image with one more layer, as `berth commit` makes it. Needs `read` on the
 * base and `load` in the target's namespace (checked by commitImageFor, which audits `image.commit`).
 */
export const imageEditProcedures = {
  /** One path of an image, for the editor to show before it is replaced (files up to 1 MiB come with their content). */
  readFile: permittedProcedure("read", {
    input: z.object({ ref: z.string().trim().min(1, "an image reference is required"), path: z.string().trim().min(1).max(4096) }),
    targets: (input) => [{ ref: input.ref }],
  }).query(({ ctx, input }) => readImageFileFor(ctx, input.ref, input.path, MAX_FILE_BYTES)),

  commitFiles: publicProcedure.input(input).mutation(({ ctx, input }) =>
    commitImageFor(ctx, null, {
      base: input.base,
      reference: input.reference,
      files: input.files,
      deletes: input.deletes,
      message: input.message,
      author: input.author,
      changes: input.changes,
    }),
  ),
} satisfies TRPCRouterRecord;
