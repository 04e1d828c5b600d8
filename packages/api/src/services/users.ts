import { randomBytes } from "node:crypto";
import type { Transaction } from "@berth/db";
import { TRPCError } from "@trpc/server";
import type { Context } from "../context";
import { audited } from "../audit/record";
import type { Actor, Role } from "../auth/actor";
import { hashPassword } from "../auth/secrets";

type Ctx = Pick<Context, "services" | "request"> & { actor: Actor };

const userRef = (username: string) => [{ ref: `user:${username}` }];

/** Everybody, with their grants and when they were last seen (a session or a token used). */
export async function listUsers(ctx: Ctx) {
  const users = await ctx.services.db.user.findMany({
    orderBy: { username: "asc" },
    select: {
      id: true,
      username: true,
      role: true,
      disabledAt: true,
      createdAt: true,
      grants: { select: { namespace: true, role: true }, orderBy: { namespace: "asc" } },
      sessions: { select: { lastSeenAt: true }, orderBy: { lastSeenAt: "desc" }, take: 1 },
      apiTokens: { select: { lastUsedAt: true }, where: { lastUsedAt: { not: null } }, orderBy: { lastUsedAt: "desc" }, take: 1 },
    },
  });
  return users.map(({ sessions, apiTokens, ...u }) => {
    const seen = [sessions[0]?.lastSeenAt, apiTokens[0]?.lastUsedAt].filter((d): d is Date => d instanceof Date);
    return {
      ...u,
      role: u.role as Role,
      grants: u.grants.map((g) => ({ namespace: g.namespace, role: g.role as "developer" | "maintainer" })),
      lastActiveAt: seen.length ? new Date(Math.max(...seen.map((d) => d.getTime()))) : null,
    };
  });
}

export async function findUser(db: Pick<Transaction, "user">, username: string) {
  const user = await db.user.findUnique({ where: { username } });
  if (!user) throw new TRPCError({ code: "NOT_FOUND", message: `no such user: ${username}` });
  return user;
}

/**
 * Refuses to leave Berth without an enabled admin. The admins' rows are locked first, so two
 * admins demoting or disabling each other at once cannot both succeed.
 */
async function keepAnAdmin(tx: Transaction, username: string, change: string) {
  const admins = await tx.$queryRaw<{ username: string }[]>`
    SELECT username FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE`;
  if (admins.length === 1 && admins[0]?.username === username) {
    throw new TRPCError({ code: "CONFLICT", message: `${username} is the last admin: make someone else admin before you ${change}` });
  }
}

/** Signs a person out everywhere and stops their tokens (and their robots) until enabled again. */
interface Disabled {
  username: string;
  disabledAt: Date | null;
  sessionsEnded: number;
  before: Date | null;
}

export function disableUser(ctx: Ctx, username: string) {
  return audited<Disabled>(
    ctx,
    {
      action: "user.disable",
      targets: userRef(username),
      describe: (r) => ({
        details: { before: { disabledAt: r.before }, after: { disabledAt: r.disabledAt }, sessionsEnded: r.sessionsEnded },
      }),
    },
    async (tx) => {
      if (username === ctx.actor.username) {
        throw new TRPCError({ code: "BAD_REQUEST", message: "you cannot disable your own account" });
      }
      const user = await findUser(tx, username);
      if (user.role === "admin" && !user.disabledAt) await keepAnAdmin(tx, username, "disable them");
      const disabledAt = user.disabledAt ?? new Date();
      await tx.user.update({ where: { id: user.id }, data: { disabledAt } });
      const { count } = await tx.session.deleteMany({ where: { userId: user.id } });
      return { username, disabledAt, sessionsEnded: count, before: user.disabledAt };
    },
  );
}

export function enableUser(ctx: Ctx, username: string) {
  return audited<Omit<Disabled, "sessionsEnded">>(
    ctx,
    {
      action: "user.enable",
      targets: userRef(username),
      describe: (r) => ({ details: { before: { disabledAt: r.before }, after: { disabledAt: null } } }),
    },
    async (tx) => {
      const user = await findUser(tx, username);
      await tx.user.update({ where: { id: user.id }, data: { disabledAt: null } });
      return { username, disabledAt: null, before: user.disabledAt };
    },
  );
}

export async function setUserRole(ctx: Ctx, username: string, role: Role) {
  let before: Role | undefined;
  return audited(
    ctx,
    {
      action: "user.role",
      targets: userRef(username),
      describe: () => ({ details: { before: { role: before }, after: { role } } }),
    },
    async (tx) => {
      const user = await findUser(tx, username);
      before = user.role as Role;
      if (before === "admin" && role !== "admin" && !user.disabledAt) await keepAnAdmin(tx, username, "change their role");
      await tx.user.update({ where: { id: user.id }, data: { role } });
      return { username, role, previousRole: before };
    },
  );
}

/**
 * Sets a new password (the one given, or a random temporary one returned once) and ends the
 * person's sessions; their tokens keep working, as after a change of their own.
 */
export async function resetPassword(ctx: Ctx, username: string, password: string | undefined) {
  const temporary = password ? null : randomBytes(12).toString("base64url");
  const passwordHash = await hashPassword(password ?? temporary!);
  return audited<{ username: string; temporaryPassword: string | null; sessionsEnded: number }>(
    ctx,
    {
      action: "user.password-reset",
      targets: userRef(username),
      details: { before: { password: "***" }, after: { password: "***" }, temporary: temporary !== null },
      describe: (r) => ({ details: { sessionsEnded: r.sessionsEnded } }),
    },
    async (tx) => {
      const user = await findUser(tx, username);
      await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
      const { count } = await tx.session.deleteMany({ where: { userId: user.id } });
      return { username, temporaryPassword: temporary, sessionsEnded: count };
    },
  );
}
