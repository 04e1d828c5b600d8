import { TRPCError } from "@trpc/server";
import { ConflictError } from "@berth/engine";
import type { DbClient, Transaction } from "@berth/db";
import type { Context } from "../context";
import { audited } from "../audit/record";

type Ctx = Pick<Context, "services" | "request" | "actor">;

/**
 * Public namespaces: an admin marks one public and anonymous callers of `/v2/` may pull its
 * repositories (auth/permissions.ts decides; the registry API reads the set per request).
 */
export interface PublicNamespaceView {
  namespace: string;
  setBy: string;
  setAt: Date;
}

const view = { namespace: true, setBy: true, setAt: true } as const;

/** Shown in the audit as `namespace:team-a`, as grants are: the namespace filter finds both. */
const target = (namespace: string) => [{ ref: `namespace:${namespace}` }];

const snapshot = (row: PublicNamespaceView) => ({ public: true, setBy: row.setBy, setAt: row.setAt.toISOString() });

export function listPublicNamespaces(ctx: Pick<Context, "services">): Promise<PublicNamespaceView[]> {
  return ctx.services.db.publicNamespace.findMany({ select: view, orderBy: { namespace: "asc" } });
}

/**
 * The public namespaces now, for one registry request: read each time rather than cached, so
 * making a namespace private takes effect at once on every replica (the table holds a handful of rows).
 */
export async function publicNamespaceSet(db: DbClient): Promise<ReadonlySet<string>> {
  const rows = await db.publicNamespace.findMany({ select: { namespace: true } });
  return new Set(rows.map((r) => r.namespace));
}

export function makePublic(ctx: Ctx, namespace: string): Promise<PublicNamespaceView> {
  return audited(
    ctx,
    {
      action: "namespace.public.add",
      targets: target(namespace),
      details: { namespace },
      describe: (row) => ({ details: { before: { public: false }, after: snapshot(row) } }),
    },
    async (tx: Transaction) => {
      const existing = await tx.publicNamespace.findUnique({ where: { namespace }, select: view });
      if (existing) throw new ConflictError(`namespace ${namespace} is already public (made public by ${existing.setBy})`);
      return tx.publicNamespace.create({ data: { namespace, setBy: ctx.actor?.username ?? "anonymous" }, select: view });
    },
  );
}

export function makePrivate(ctx: Ctx, namespace: string): Promise<PublicNamespaceView> {
  return audited(
    ctx,
    {
      action: "namespace.public.remove",
      targets: target(namespace),
      details: { namespace },
      describe: (row) => ({ details: { before: snapshot(row), after: { public: false } } }),
    },
    async (tx: Transaction) => {
      const existing = await tx.publicNamespace.findUnique({ where: { namespace }, select: view });
      if (!existing) throw new TRPCError({ code: "NOT_FOUND", message: `namespace ${namespace} is not public` });
      await tx.publicNamespace.delete({ where: { namespace } });
      return existing;
    },
  );
}
