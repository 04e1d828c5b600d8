import { TRPCError } from "@trpc/server";
import type { Context } from "../context";
import { audited } from "../audit/record";
import type { Actor, GrantRole } from "../auth/actor";
import { findUser } from "./users";

type Ctx = Pick<Context, "services" | "request"> & { actor: Actor };

/** Grants of everybody, or of one person; by username, then namespace. */
export async function listGrants(ctx: Ctx, username?: string) {
  if (username) await findUser(ctx.services.db, username);
  const rows = await ctx.services.db.namespaceGrant.findMany({
    where: username ? { user: { username } } : {},
    select: { namespace: true, role: true, createdAt: true, user: { select: { username: true } } },
    orderBy: [{ user: { username: "asc" } }, { namespace: "asc" }],
  });
  return rows.map((g) => ({ username: g.user.username, namespace: g.namespace, role: g.role as GrantRole, createdAt: g.createdAt }));
}

const grantTargets = (username: string, namespace: string) => [{ ref: `user:${username}` }, { ref: `namespace:${namespace}` }];

/** Gives `username` the role `role` in `namespace` (replacing a grant there); before/after audited. */
export async function setGrant(ctx: Ctx, input: { username: string; namespace: string; role: GrantRole }) {
  let before: string | null = null;
  return audited(
    ctx,
    {
      action: "grant.set",
      targets: grantTargets(input.username, input.namespace),
      describe: () => ({ details: { namespace: input.namespace, before: { role: before }, after: { role: input.role } } }),
    },
    async (tx) => {
      const user = await findUser(tx, input.username);
      const key = { userId_namespace: { userId: user.id, namespace: input.namespace } };
      before = (await tx.namespaceGrant.findUnique({ where: key }))?.role ?? null;
      await tx.namespaceGrant.upsert({
        where: key,
        create: { userId: user.id, namespace: input.namespace, role: input.role },
        update: { role: input.role },
      });
      return { username: input.username, namespace: input.namespace, role: input.role, previousRole: before as GrantRole | null };
    },
  );
}

export async function removeGrant(ctx: Ctx, input: { username: string; namespace: string }) {
  let before: string | null = null;
  return audited(
    ctx,
    {
      action: "grant.remove",
      targets: grantTargets(input.username, input.namespace),
      describe: () => ({ details: { namespace: input.namespace, before: { role: before }, after: { role: null } } }),
    },
    async (tx) => {
      const user = await findUser(tx, input.username);
      const key = { userId_namespace: { userId: user.id, namespace: input.namespace } };
      const grant = await tx.namespaceGrant.findUnique({ where: key });
      if (!grant) {
        throw new TRPCError({ code: "NOT_FOUND", message: `${input.username} has no grant in namespace "${input.namespace}"` });
      }
      before = grant.role;
      await tx.namespaceGrant.delete({ where: key });
      return { username: input.username, namespace: input.namespace, previousRole: grant.role as GrantRole };
    },
  );
}
