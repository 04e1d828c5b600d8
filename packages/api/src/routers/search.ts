import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { permittedProcedure } from "../trpc";
import { searchLocal, searchRemote } from "../services/search";

const term = z.string().max(255, "the search term is longer than 255 characters");

/** `docker search` (remote) and a search of the store (local). Queries only: nothing is changed, nothing audited. */
export const searchRouter = {
  remote: permittedProcedure("read", {
    input: z.object({
      term,
      registry: z.string().max(255).optional(),
      /** docker's `--limit`: 1..100, 0 or absent for 25; checked by the engine with docker's message. */
      limit: z.number().int().optional(),
      /** docker's `--filter key=value` pairs, grouped by key. */
      filters: z.record(z.string(), z.array(z.string())).default({}),
    }),
  }).query(({ ctx, input }) => searchRemote(ctx, input)),

  local: permittedProcedure("read", { input: z.object({ term, limit: z.number().int().min(1).max(500).default(100) }) }).query(
    ({ ctx, input }) => searchLocal(ctx, input),
  ),
} satisfies TRPCRouterRecord;
