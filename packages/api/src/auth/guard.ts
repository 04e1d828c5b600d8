import { TRPCError } from "@trpc/server";
import type { Context } from "../context";
import { recordFailure, type AuditTarget } from "../audit/record";
import type { Actor } from "./actor";
import { authorize, PermissionDenied, type Action, type PermissionTarget } from "./permissions";

/**
 * What a procedure or endpoint needs: an action of permissions.ts, `admin` (any admin-only
 * action: they share one rule), or `account` (a signed-in person, not a robot, acting on their
 * own account: password, personal tokens).
 */
export type Requirement = Action | "admin" | "account";

/** One target to check; `action` overrides the requirement's (e.g. cancelling a push job needs `push`). */
export type Check = PermissionTarget & { action?: Action };

export interface GuardOptions {
  /** The audit action of a refusal, e.g. `image.tag` (the same name its success has). */
  audit: string;
  /** Refusals of callers who are not signed in are audited for changes, not for reads. */
  auditAnonymous: boolean;
  /** Added to the audit event of a refusal. */
  details?: Record<string, unknown>;
}

type GuardCtx = Pick<Context, "services" | "request" | "actor" | "authFailure">;

function auditTargets(checks: readonly Check[]): AuditTarget[] {
  const refs = checks.flatMap((c) => ("ref" in c ? [c.ref] : c.namespace !== null ? [`namespace:${c.namespace}`] : []));
  return [...new Set(refs)].map((ref) => ({ ref }));
}

function decide(actor: Actor, requirement: Requirement, checks: readonly Check[]): void {
  if (requirement === "account") {
    if (actor.robot) {
      throw new PermissionDenied(`robot token "${actor.robot.name}" cannot manage accounts or tokens`, "users", null, true);
    }
    return;
  }
  const fallback: Action = requirement === "admin" ? "users" : requirement;
  if (checks.length === 0) return authorize(actor, fallback);
  for (const check of checks) authorize(actor, check.action ?? fallback, [check]);
}

/**
 * The check every procedure and endpoint goes through: the caller must be signed in and may
 * do the action on every target. A refusal is written to the audit log as `denied` with the
 * reason, the attempted action and its targets, then thrown (UNAUTHORIZED or FORBIDDEN).
 */
export async function guard(ctx: GuardCtx, requirement: Requirement, checks: readonly Check[], opts: GuardOptions): Promise<Actor> {
  const spec = { action: opts.audit, targets: auditTargets(checks) };
  const actor = ctx.actor;
  if (!actor) {
    const reason = ctx.authFailure ?? "not signed in";
    const details = { ...opts.details, permission: requirement, reason };
    if (opts.auditAnonymous) await recordFailure(ctx, { ...spec, details }, new Error(reason), "denied");
    throw new TRPCError({ code: "UNAUTHORIZED", message: reason === "not signed in" ? "sign in first" : `sign in first (${reason})` });
  }
  try {
    decide(actor, requirement, checks);
  } catch (err) {
    if (!(err instanceof PermissionDenied)) throw err;
    const permission = requirement === "admin" || requirement === "account" ? requirement : err.action;
    const details = { ...opts.details, permission, namespace: err.namespace };
    await recordFailure({ ...ctx, actor }, { ...spec, details }, err, "denied");
    throw err;
  }
  return actor;
}
