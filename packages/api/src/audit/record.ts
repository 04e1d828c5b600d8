import { appendAuditEvent, type Database, type Transaction } from "@berth/db";
import type { Context } from "../context";
import { errorMessage, isDenial } from "../errors";
import { auditActorDetails, auditActorName } from "../auth/actor";

/** What an audit event points at: a reference and the image digests before and after. */
export interface AuditTarget {
  ref: string;
  digestBefore?: string | null;
  digestAfter?: string | null;
}

export interface AuditSpec<T> {
  action: string;
  /** Targets known before running (shown on failure too). */
  targets?: AuditTarget[];
  /**
   * Targets and details derived from the result (shown on success). A call that did nothing but
   * fail per item may say so (`failed` with the error), or skip its event when each item's
   * outcome was recorded on its own (`skip`).
   */
  describe?: (result: NoInfer<T>) => {
    targets?: AuditTarget[];
    details?: Record<string, unknown>;
    failed?: string;
    skip?: boolean;
  };
  details?: Record<string, unknown>;
}

type Who = Pick<Context, "actor" | "request"> & { actorName?: string };

function base(who: Who) {
  return {
    actorId: who.actor?.userId ?? null,
    // A robot token is named as itself; details.robot names the person who created it.
    actorName: who.actor ? auditActorName(who.actor) : (who.actorName ?? "anonymous"),
    interface: who.request.interface,
    ip: who.request.ip,
    userAgent: who.request.userAgent,
  };
}

/**
 * Runs a mutation and its audit event in one transaction. When the mutation fails,
 * the transaction rolls back and a `failed` event (`denied` for a refusal, e.g. a protected
 * tag) is written on its own, then the error is rethrown: failures are audited too, and
 * nothing half-done remains.
 */
export async function audited<T>(
  ctx: Who & { services: { db: Database } },
  spec: AuditSpec<T>,
  run: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const { db } = ctx.services;
  try {
    return await db.$transaction(
      async (tx) => {
        const result = await run(tx);
        const described = spec.describe?.(result) ?? {};
        if (described.skip) return result;
        await appendAuditEvent(tx, {
          ...base(ctx),
          action: spec.action,
          result: described.failed === undefined ? "ok" : "failed",
          error: described.failed ?? null,
          targets: described.targets ?? spec.targets ?? [],
          details: { ...spec.details, ...described.details, ...auditActorDetails(ctx.actor) },
        });
        return result;
      },
      { timeout: 120_000, maxWait: 30_000 },
    );
  } catch (err) {
    await recordFailure(ctx, spec, err, isDenial(err) ? "denied" : "failed");
    throw err;
  }
}

export async function recordFailure(
  ctx: Who & { services: { db: Database } },
  spec: Pick<AuditSpec<unknown>, "action" | "targets" | "details">,
  err: unknown,
  result: "failed" | "denied" = "failed",
): Promise<void> {
  await appendAuditEvent(ctx.services.db, {
    ...base(ctx),
    action: spec.action,
    result,
    error: errorMessage(err),
    targets: spec.targets ?? [],
    details: { ...spec.details, ...auditActorDetails(ctx.actor) },
  });
}
