import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { permittedProcedure, publicProcedure } from "../trpc";
import { acceptInvite, createInvite, describeInvite, listInvites, revokeInvite } from "../services/invites";
import { listGrants, removeGrant, setGrant } from "../services/grants";
import { disableUser, enableUser, listUsers, resetPassword, setUserRole } from "../services/users";
import { grantRoleInput, inviteSecretInput, namespaceInput, passwordInput, roleInput, usernameInput } from "./people-inputs";

const who = z.object({ username: usernameInput });
const grant = z.object({ username: usernameInput, namespace: namespaceInput });
/** Named in the audit of a refusal (admin actions concern no namespace). */
const person = (input: { username: string }) => [{ ref: `user:${input.username}` }];
const personAndNamespace = (input: { username: string; namespace: string }) => [...person(input), { ref: `namespace:${input.namespace}` }];

/**
 * People: admins invite, disable, reset passwords, set default roles and per-namespace grants
 * (each change audited with before/after, secrets redacted). Accepting an invitation is public:
 * the one-time link is the credential.
 */
export const usersRouter = {
  list: permittedProcedure("users").query(({ ctx }) => listUsers(ctx)),

  /** A one-time link (`path`, shown once) that creates an account with `role`. */
  invite: permittedProcedure("users", {
    input: z.object({
      role: roleInput,
      username: usernameInput.optional(),
      email: z.email("that is not an email address").max(320).optional(),
      expiresInDays: z
        .number()
        .int()
        .min(1, "an invitation lasts at least 1 day")
        .max(30, "an invitation lasts at most 30 days")
        .default(7),
    }),
    targets: (input) => [{ ref: input.username ? `user:${input.username}` : "user:(invited)" }],
    audit: "user.invite",
  }).mutation(({ ctx, input }) => createInvite(ctx, input)),

  invites: permittedProcedure("users").query(({ ctx }) => listInvites(ctx)),

  revokeInvite: permittedProcedure("users", { input: z.object({ id: z.uuid() }), audit: "user.invite-revoke" }).mutation(({ ctx, input }) =>
    revokeInvite(ctx, input.id),
  ),

  /** For the invitation page: what the link offers, or why it cannot be used. */
  inviteInfo: publicProcedure.input(z.object({ secret: inviteSecretInput })).query(({ ctx, input }) => describeInvite(ctx, input.secret)),

  acceptInvite: publicProcedure
    .input(z.object({ secret: inviteSecretInput, username: usernameInput, password: passwordInput }))
    .mutation(({ ctx, input }) => acceptInvite(ctx, input)),

  disable: permittedProcedure("users", { input: who, targets: person, audit: "user.disable" }).mutation(async ({ ctx, input }) => {
    const { username, disabledAt, sessionsEnded } = await disableUser(ctx, input.username);
    return { username, disabledAt, sessionsEnded };
  }),

  enable: permittedProcedure("users", { input: who, targets: person, audit: "user.enable" }).mutation(async ({ ctx, input }) => {
    const { username, disabledAt } = await enableUser(ctx, input.username);
    return { username, disabledAt };
  }),

  /** Without `password`, a random temporary one is returned once. Ends the person's sessions. */
  resetPassword: permittedProcedure("users", {
    input: z.object({ username: usernameInput, password: passwordInput.optional() }),
    targets: person,
    audit: "user.password-reset",
  }).mutation(({ ctx, input }) => resetPassword(ctx, input.username, input.password)),

  setRole: permittedProcedure("users", {
    input: z.object({ username: usernameInput, role: roleInput }),
    targets: person,
    audit: "user.role",
  }).mutation(({ ctx, input }) => setUserRole(ctx, input.username, input.role)),

  grants: permittedProcedure("users", { input: z.object({ username: usernameInput.optional() }).default({}) }).query(({ ctx, input }) =>
    listGrants(ctx, input.username),
  ),

  setGrant: permittedProcedure("users", {
    input: grant.extend({ role: grantRoleInput }),
    targets: personAndNamespace,
    audit: "grant.set",
  }).mutation(({ ctx, input }) => setGrant(ctx, input)),

  removeGrant: permittedProcedure("users", { input: grant, targets: personAndNamespace, audit: "grant.remove" }).mutation(
    ({ ctx, input }) => removeGrant(ctx, input),
  ),
} satisfies TRPCRouterRecord;
