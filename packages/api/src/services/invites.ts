import type { DbClient } from "@berth/db";
import { TRPCError } from "@trpc/server";
import type { Context } from "../context";
import { audited } from "../audit/record";
import type { Actor, Role } from "../auth/actor";
import { hashPassword, hashSecret, newSecret } from "../auth/secrets";

type AdminCtx = Pick<Context, "services" | "request"> & { actor: Actor };
type PublicCtx = Pick<Context, "services" | "request">;

/** Where the dashboard serves an invitation; the secret in it is shown once and stored only hashed. */
export const invitePath = (secret: string) => `/invite/${secret}`;

export async function createInvite(
  ctx: AdminCtx,
  input: { role: Role; username?: string | undefined; email?: string | undefined; expiresInDays: number },
) {
  const secret = newSecret("");
  const expiresAt = new Date(Date.now() + input.expiresInDays * 86_400_000);
  const details = { role: input.role, username: input.username ?? null, email: input.email ?? null, expiresAt };
  const row = await audited<{ id: string; username: string | null; email: string | null }>(
    ctx,
    {
      action: "user.invite",
      targets: [{ ref: input.username ? `user:${input.username}` : "user:(invited)" }],
      details,
      describe: (r) => ({ details: { inviteId: r.id } }),
    },
    async (tx) => {
      if (input.username && (await tx.user.findUnique({ where: { username: input.username }, select: { id: true } }))) {
        throw new TRPCError({ code: "CONFLICT", message: `username ${input.username} is taken` });
      }
      return tx.invite.create({
        data: {
          secretHash: hashSecret(secret),
          role: input.role,
          username: input.username ?? null,
          email: input.email ?? null,
          createdById: ctx.actor.userId,
          expiresAt,
        },
      });
    },
  );
  return { id: row.id, role: input.role, username: row.username, email: row.email, expiresAt, path: invitePath(secret) };
}

/** Invitations, newest first, with what became of them; never their secrets. */
export async function listInvites(ctx: AdminCtx) {
  const now = new Date();
  const rows = await ctx.services.db.invite.findMany({
    orderBy: { createdAt: "desc" },
    take: 200,
    include: { createdBy: { select: { username: true } }, usedBy: { select: { username: true } } },
  });
  return rows.map((i) => ({
    id: i.id,
    role: i.role as Role,
    username: i.username,
    email: i.email,
    createdBy: i.createdBy.username,
    createdAt: i.createdAt,
    expiresAt: i.expiresAt,
    usedAt: i.usedAt,
    usedBy: i.usedBy?.username ?? null,
    state: i.usedAt ? ("used" as const) : i.expiresAt <= now ? ("expired" as const) : ("pending" as const),
  }));
}

/** Withdraws an unused invitation: its link stops working. */
export async function revokeInvite(ctx: AdminCtx, id: string) {
  return audited(ctx, { action: "user.invite-revoke", targets: [{ ref: `invite:${id}` }] }, async (tx) => {
    const invite = await tx.invite.findUnique({ where: { id } });
    if (!invite) throw new TRPCError({ code: "NOT_FOUND", message: `no such invitation: ${id}` });
    if (invite.usedAt) throw new TRPCError({ code: "CONFLICT", message: "this invitation was used already; disable the user instead" });
    await tx.invite.delete({ where: { id } });
    return { id };
  });
}

async function usableInvite(db: Pick<DbClient, "invite">, secret: string) {
  const invite = await db.invite.findUnique({ where: { secretHash: hashSecret(secret) } });
  if (!invite) throw new TRPCError({ code: "NOT_FOUND", message: "this invitation link is not valid (it may have been withdrawn)" });
  if (invite.usedAt)
    throw new TRPCError({ code: "FORBIDDEN", message: "this invitation link was used already: ask an admin for a new one" });
  if (invite.expiresAt <= new Date()) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: `this invitation link expired on ${invite.expiresAt.toISOString()}: ask an admin for a new one`,
    });
  }
  return invite;
}

/** What the invitation page shows before the person picks a username and password. */
export async function describeInvite(ctx: PublicCtx, secret: string) {
  const invite = await usableInvite(ctx.services.db, secret);
  return { role: invite.role as Role, username: invite.username, email: invite.email, expiresAt: invite.expiresAt };
}

/**
 * Creates the invited person's account; the link works once. The audit names the new person as
 * the actor (who invited them is in the details); refusals are audited under the name they tried.
 */
export async function acceptInvite(ctx: PublicCtx, input: { secret: string; username: string; password: string }) {
  const passwordHash = await hashPassword(input.password);
  const who: PublicCtx & { actor: Actor | null; actorName: string } = { ...ctx, actor: null, actorName: input.username };
  let invitedBy: string | undefined;
  const user = await audited<{ username: string; role: Role }>(
    who,
    {
      action: "user.invite-accept",
      targets: [{ ref: `user:${input.username}` }],
      describe: (u) => ({ details: { role: u.role, invitedBy } }),
    },
    async (tx) => {
      const invite = await usableInvite(tx, input.secret);
      if (invite.username && invite.username !== input.username) {
        throw new TRPCError({ code: "BAD_REQUEST", message: `this invitation is for the username ${invite.username}` });
      }
      if (await tx.user.findUnique({ where: { username: input.username }, select: { id: true } })) {
        throw new TRPCError({ code: "CONFLICT", message: `username ${input.username} is taken: choose another` });
      }
      const created = await tx.user.create({ data: { username: input.username, passwordHash, role: invite.role } });
      // Single use even when two people open the link at once: only one update finds it unused.
      const { count } = await tx.invite.updateMany({
        where: { id: invite.id, usedAt: null },
        data: { usedAt: new Date(), usedById: created.id },
      });
      if (count !== 1)
        throw new TRPCError({ code: "FORBIDDEN", message: "this invitation link was used already: ask an admin for a new one" });
      invitedBy = (await tx.user.findUnique({ where: { id: invite.createdById }, select: { username: true } }))?.username;
      // The event is appended after this returns: it names the new person.
      who.actor = { userId: created.id, username: created.username, role: created.role as Role };
      return { username: created.username, role: created.role as Role };
    },
  );
  return user;
}
