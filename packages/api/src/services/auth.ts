import { findPrincipal, type Database, type PrincipalUser } from "@berth/db";
import { TRPCError } from "@trpc/server";
import { randomBytes } from "node:crypto";
import type { Context } from "../context";
import { audited, recordFailure } from "../audit/record";
import { TOKEN_PREFIX } from "../auth/actor";
import { hashPassword, hashSecret, newSecret, verifyPassword } from "../auth/secrets";
import { can } from "../auth/permissions";

type Ctx = Pick<Context, "services" | "request" | "actor">;

const SESSION_DAYS = 14;
const INVALID = "incorrect username or password";

/**
 * First start: makes sure user `admin` exists. With a configured password it is used;
 * otherwise a random one is generated and returned so the caller can print it once.
 */
export async function ensureAdmin(db: Database, configured?: string): Promise<{ created: boolean; password?: string }> {
  const existing = await db.user.findUnique({ where: { username: "admin" } });
  if (existing) return { created: false };
  const password = configured || randomBytes(12).toString("base64url");
  await db.user.create({ data: { username: "admin", passwordHash: await hashPassword(password), role: "admin" } });
  return { created: true, password: configured ? undefined : password };
}

/** The person (with their grants) whose password this is; a refusal is audited. */
export async function checkPassword(ctx: Ctx, username: string, password: string, action: string): Promise<PrincipalUser> {
  const found = await findPrincipal(ctx.services.db, { username });
  const user = found?.user;
  // Verify against a dummy hash for unknown users so timing does not reveal who exists.
  const ok = found?.passwordHash
    ? await verifyPassword(found.passwordHash, password)
    : (await verifyPassword(await dummyHash(), password), false);
  if (!user || !ok || user.disabledAt) {
    await recordFailure({ ...ctx, actorName: username }, { action, targets: [{ ref: `user:${username}` }] }, new Error(INVALID), "denied");
    throw new TRPCError({ code: "UNAUTHORIZED", message: INVALID });
  }
  return user;
}
let dummy: Promise<string> | undefined;
const dummyHash = () => (dummy ??= hashPassword(randomBytes(16).toString("hex")));

/** Browser sign-in: returns the session secret to set as a cookie. */
export async function signIn(ctx: Ctx, username: string, password: string) {
  const user = await checkPassword(ctx, username, password, "auth.sign-in");
  const secret = newSecret("");
  const expiresAt = new Date(Date.now() + SESSION_DAYS * 86_400_000);
  const who = { ...ctx, actor: { userId: user.id, username: user.username, role: user.role as "admin" } };
  await audited(who, { action: "auth.sign-in", targets: [{ ref: `user:${user.username}` }] }, (tx) =>
    tx.session.create({
      data: { id: hashSecret(secret), userId: user.id, expiresAt, ip: ctx.request.ip, userAgent: ctx.request.userAgent },
    }),
  );
  return { secret, expiresAt, username: user.username };
}

export async function signOut(ctx: Ctx, sessionSecret: string | undefined) {
  if (!sessionSecret || !ctx.actor) return;
  await audited(ctx, { action: "auth.sign-out", targets: [{ ref: `user:${ctx.actor.username}` }] }, (tx) =>
    tx.session.deleteMany({ where: { id: hashSecret(sessionSecret) } }),
  );
}

/** CLI `login`: exchanges a password for a personal token named after the machine. */
export async function loginForToken(ctx: Ctx, username: string, password: string, name: string) {
  const user = await checkPassword(ctx, username, password, "token.create");
  const who = { ...ctx, actor: { userId: user.id, username: user.username, role: user.role as "admin" } };
  return createToken(who, name, null);
}

export async function createToken(ctx: Ctx, name: string, expiresAt: Date | null) {
  const actor = ctx.actor;
  if (!actor) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  const token = newSecret(TOKEN_PREFIX);
  const row = await audited(ctx, { action: "token.create", targets: [{ ref: `token:${name}` }], details: { expiresAt } }, (tx) =>
    tx.apiToken.create({
      data: { userId: actor.userId, name, tokenHash: hashSecret(token), tokenPrefix: token.slice(0, 12), expiresAt },
    }),
  );
  return { id: row.id, name: row.name, token, expiresAt: row.expiresAt, createdAt: row.createdAt };
}

/** The caller's tokens, personal and robot (with `all`, an admin sees everybody's); never a secret. */
export async function listTokens(ctx: Ctx, opts: { all?: boolean } = {}) {
  const actor = ctx.actor!;
  const rows = await ctx.services.db.apiToken.findMany({
    where: opts.all && can(actor, "users", null) ? {} : { userId: actor.userId },
    orderBy: { createdAt: "desc" },
    select: {
      id: true,
      name: true,
      kind: true,
      namespaces: true,
      actions: true,
      tokenPrefix: true,
      createdAt: true,
      lastUsedAt: true,
      expiresAt: true,
      revokedAt: true,
      user: { select: { username: true } },
    },
  });
  const now = new Date();
  return rows.map(({ user, ...t }) => ({
    ...t,
    kind: t.kind as "personal" | "robot",
    /** The person it acts for (a robot's creator). */
    owner: user.username,
    state: t.revokedAt ? ("revoked" as const) : t.expiresAt && t.expiresAt <= now ? ("expired" as const) : ("active" as const),
  }));
}

/** The audit's name for a token: `token:<name>` (personal) or `robot:<name>`. */
export const tokenRef = (token: { kind: string; name: string }) => `${token.kind === "robot" ? "robot" : "token"}:${token.name}`;

export async function revokeToken(ctx: Ctx, id: string) {
  const actor = ctx.actor!;
  const token = await ctx.services.db.apiToken.findUnique({ where: { id } });
  const spec = { action: "token.revoke", targets: [{ ref: token ? tokenRef(token) : `token:${id}` }] };
  if (!token || (token.userId !== actor.userId && !can(actor, "users", null))) {
    const err = new TRPCError({ code: "NOT_FOUND", message: `no such token: ${id}` });
    await recordFailure(ctx, spec, err);
    throw err;
  }
  // Revoking twice keeps the first time.
  await audited(ctx, spec, (tx) => tx.apiToken.update({ where: { id }, data: { revokedAt: token.revokedAt ?? new Date() } }));
}

/** A person changes their own password; their other sessions end, tokens stay. */
export async function changePassword(ctx: Ctx, currentPassword: string, newPassword: string, currentSession?: string) {
  const actor = ctx.actor;
  if (!actor) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  const spec = { action: "user.password-change", targets: [{ ref: `user:${actor.username}` }] };
  const user = await ctx.services.db.user.findUnique({ where: { id: actor.userId } });
  if (!user || !(await verifyPassword(user.passwordHash, currentPassword))) {
    const err = new TRPCError({ code: "FORBIDDEN", message: "the current password is not correct" });
    await recordFailure(ctx, spec, err, "denied");
    throw err;
  }
  const passwordHash = await hashPassword(newPassword);
  await audited(ctx, spec, async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    await tx.session.deleteMany({
      where: { userId: user.id, ...(currentSession ? { NOT: { id: hashSecret(currentSession) } } : {}) },
    });
  });
}
