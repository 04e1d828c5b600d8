import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { permittedProcedure } from "../trpc";
import { diskUsageFor } from "../services/images";

export const systemRouter = {
  df: permittedProcedure("read", { input: z.object({ verbose: z.boolean().default(false) }).default({ verbose: false }) }).query(
    ({ ctx, input }) => diskUsageFor(ctx, input.verbose),
  ),
} satisfies TRPCRouterRecord;
