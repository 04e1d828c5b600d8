import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { listAuditActions, listAuditEvents, verifyAuditChain } from "@berth/db";
import { permittedProcedure } from "../trpc";
import { auditFilter } from "../audit/filter-input";
import { imageHistoryFor } from "../services/audit-image";

export { auditFilter, type AuditFilter } from "../audit/filter-input";

const page = { cursor: z.string().optional(), limit: z.number().int().min(1).max(500).default(50) };

export const auditRouter = {
  /** Newest first, every filter combined; `nextCursor` pages on. */
  list: permittedProcedure("read", { input: auditFilter.extend(page) }).query(({ ctx, input }) => listAuditEvents(ctx.services.db, input)),

  /** One image's history (image page): events naming its ID, manifest digest or current tags. */
  forImage: permittedProcedure("read", {
    input: z.object({ id: z.string().trim().min(1, "an image ID is required"), ...page }),
    targets: (input) => [{ ref: input.id }],
  }).query(({ ctx, input }) => imageHistoryFor(ctx, input)),

  /** The actions recorded so far (suggestions for the action filter). */
  actions: permittedProcedure("read").query(({ ctx }) => listAuditActions(ctx.services.db)),

  /** Re-walks the whole hash chain; reports the first broken link (admins). */
  verify: permittedProcedure("audit-verify").query(({ ctx }) => verifyAuditChain(ctx.services.db)),
} satisfies TRPCRouterRecord;
