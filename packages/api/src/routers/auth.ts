import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { permittedProcedure, publicProcedure } from "../trpc";
import { changePassword, createToken, listTokens, loginForToken, revokeToken } from "../services/auth";
import { createRobotToken } from "../services/robot-tokens";
import { ACTIONS, explain, namespaceOf, permissionSummary } from "../auth/permissions";
import { expiresInDaysInput, namespaceInput, robotActionsInput, robotNameInput, robotNamespacesInput } from "./people-inputs";

const tokenName = z.string().trim().min(1, "a token needs a name").max(100);
const expiry = (days: number | undefined) => (days ? new Date(Date.now() + days * 86_400_000) : null);

export const authRouter = {
  /** Who is signed in (null when nobody), and what they may do, for the dashboard to hide the rest. */
  me: publicProcedure.query(({ ctx }) =>
    ctx.actor
      ? {
          username: ctx.actor.username,
          role: ctx.actor.role,
          viaToken: Boolean(ctx.actor.tokenId),
          permissions: permissionSummary(ctx.actor),
        }
      : null,
  ),

  /**
   * "Why can't I?": whether the caller may do `action` on `ref` (its namespace) or in `namespace`
   * (neither: no namespace), and the reason when not. Answers, never refuses.
   */
  can: publicProcedure
    .input(
      z.object({
        action: z.enum(ACTIONS, { error: (i) => `"${String(i.input)}" is not an action (one of ${ACTIONS.join(", ")})` }),
        ref: z.string().trim().min(1).optional(),
        namespace: namespaceInput.optional(),
      }),
    )
    .query(({ ctx, input }) => {
      const namespace = input.ref !== undefined ? namespaceOf(input.ref) : (input.namespace ?? null);
      const decision = explain(ctx.actor, input.action, namespace);
      return { action: input.action, namespace, allowed: decision.allowed, reason: decision.reason };
    }),

  changePassword: permittedProcedure("account", {
    input: z.object({
      currentPassword: z.string().min(1, "enter your current password"),
      newPassword: z.string().min(8, "the new password needs at least 8 characters").max(200),
    }),
    audit: "user.password-change",
  }).mutation(({ ctx, input }) => changePassword(ctx, input.currentPassword, input.newPassword, ctx.sessionSecret)),

  /** CLI login: password for a personal token (shown once). */
  login: publicProcedure
    .input(z.object({ username: z.string().min(1), password: z.string().min(1), name: tokenName }))
    .mutation(({ ctx, input }) => loginForToken(ctx, input.username, input.password, input.name)),
} satisfies TRPCRouterRecord;

/** Personal and robot tokens: secrets shown once at creation, never listed; revocable. People only, not robots. */
export const tokensRouter = {
  /** The caller's tokens; `all` (admins): everybody's. */
  list: permittedProcedure("account", { input: z.object({ all: z.boolean().default(false) }).default({ all: false }) }).query(
    ({ ctx, input }) => listTokens(ctx, input),
  ),

  create: permittedProcedure("account", {
    input: z.object({ name: tokenName, expiresInDays: expiresInDaysInput.optional() }),
    targets: (input) => [{ ref: `token:${input.name}` }],
    audit: "token.create",
  }).mutation(({ ctx, input }) => createToken(ctx, input.name, expiry(input.expiresInDays))),

  /** A robot token owned by the caller: scoped to namespaces (or "*") and actions; never more than its owner may do. */
  createRobot: permittedProcedure("account", {
    input: z.object({
      name: robotNameInput,
      namespaces: robotNamespacesInput,
      actions: robotActionsInput,
      expiresInDays: expiresInDaysInput.optional(),
    }),
    targets: (input) => [{ ref: `robot:${input.name}` }],
    audit: "token.create",
  }).mutation(({ ctx, input }) =>
    createRobotToken(ctx, {
      name: input.name,
      namespaces: input.namespaces,
      actions: input.actions,
      expiresAt: expiry(input.expiresInDays),
    }),
  ),

  /** The caller's own token, or anyone's for an admin. */
  revoke: permittedProcedure("account", { input: z.object({ id: z.string().uuid() }), audit: "token.revoke" }).mutation(({ ctx, input }) =>
    revokeToken(ctx, input.id),
  ),
} satisfies TRPCRouterRecord;
