import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { protectedProcedure, publicProcedure } from "../trpc";
import { changePassword, createToken, listTokens, loginForToken, revokeToken } from "../services/auth";

const tokenName = z.string().trim().min(1, "a token needs a name").max(100);

export const authRouter = {
  /** Who is signed in (null when nobody). */
  me: publicProcedure.query(({ ctx }) =>
    ctx.actor ? { username: ctx.actor.username, role: ctx.actor.role, viaToken: Boolean(ctx.actor.tokenId) } : null,
  ),

  changePassword: protectedProcedure
    .input(
      z.object({
        currentPassword: z.string().min(1, "enter your current password"),
        newPassword: z.string().min(8, "the new password needs at least 8 characters").max(200),
      }),
    )
    .mutation(({ ctx, input }) => changePassword(ctx, input.currentPassword, input.newPassword, ctx.sessionSecret)),

  /** CLI login: password for a personal token (shown once). */
  login: publicProcedure
    .input(z.object({ username: z.string().min(1), password: z.string().min(1), name: tokenName }))
    .mutation(({ ctx, input }) => loginForToken(ctx, input.username, input.password, input.name)),
} satisfies TRPCRouterRecord;

export const tokensRouter = {
  list: protectedProcedure.query(({ ctx }) => listTokens(ctx)),
  create: protectedProcedure
    .input(z.object({ name: tokenName, expiresInDays: z.number().int().positive().max(3650).optional() }))
    .mutation(({ ctx, input }) =>
      createToken(ctx, input.name, input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null),
    ),
  revoke: protectedProcedure.input(z.object({ id: z.string().uuid() })).mutation(({ ctx, input }) => revokeToken(ctx, input.id)),
} satisfies TRPCRouterRecord;
