import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { listAuditEvents } from "@berth/db";
import { protectedProcedure } from "../trpc";

export const auditFilter = z.object({
  actor: z.string().optional(),
  action: z.string().optional(),
  repository: z.string().optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
});
export type AuditFilter = z.infer<typeof auditFilter>;

export const auditRouter = {
  list: protectedProcedure
    .input(auditFilter.extend({ cursor: z.string().optional(), limit: z.number().int().min(1).max(500).default(50) }))
    .query(({ ctx, input }) => listAuditEvents(ctx.services.db, input)),
} satisfies TRPCRouterRecord;
