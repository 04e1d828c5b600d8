import { TRPCError } from "@trpc/server";
import type { Context } from "../context";
import { audited } from "../audit/record";
import { TOKEN_PREFIX, type Actor, type RobotAction } from "../auth/actor";
import { ALL_NAMESPACES, canSomewhere, explain } from "../auth/permissions";
import { hashSecret, newSecret } from "../auth/secrets";

type Ctx = Pick<Context, "services" | "request"> & { actor: Actor };

export interface RobotTokenInput {
  name: string;
  /** Namespace names, or `["*"]`. */
  namespaces: string[];
  actions: RobotAction[];
  expiresAt: Date | null;
}

/**
 * What the robot could not do today because its creator cannot: allowed (a grant may come
 * later, and a robot never exceeds its owner at the time of use), but worth saying at once.
 */
function scopeWarnings(owner: Actor, input: RobotTokenInput): string[] {
  const warnings: string[] = [];
  for (const action of input.actions) {
    if (input.namespaces.includes(ALL_NAMESPACES)) {
      if (!canSomewhere(owner, action)) warnings.push(`you may not ${action} anywhere yourself, so neither may this robot for now`);
      continue;
    }
    for (const namespace of input.namespaces) {
      const decision = explain(owner, action, namespace);
      if (!decision.allowed) warnings.push(`${decision.reason}: this robot may not ${action} in "${namespace}" either for now`);
    }
  }
  return warnings;
}

const isUniqueViolation = (err: unknown) => (err as { code?: unknown } | null)?.code === "P2002";

/** A robot token owned by the caller, shown once; its scope is what it may do, never more than its owner. */
export async function createRobotToken(ctx: Ctx, input: RobotTokenInput) {
  const token = newSecret(TOKEN_PREFIX);
  const taken = new TRPCError({
    code: "CONFLICT",
    message: `a robot token named "${input.name}" exists already: revoke it first or choose another name`,
  });
  const spec = {
    action: "token.create",
    targets: [{ ref: `robot:${input.name}` }],
    details: { kind: "robot", namespaces: input.namespaces, actions: input.actions, expiresAt: input.expiresAt },
  };
  const row = await audited(ctx, spec, async (tx) => {
    // The audit names robots by name: two live ones must not share it.
    if (await tx.apiToken.findFirst({ where: { kind: "robot", name: input.name, revokedAt: null }, select: { id: true } })) throw taken;
    return tx.apiToken.create({
      data: {
        userId: ctx.actor.userId,
        name: input.name,
        kind: "robot",
        namespaces: input.namespaces,
        actions: input.actions,
        tokenHash: hashSecret(token),
        tokenPrefix: token.slice(0, 12),
        expiresAt: input.expiresAt,
      },
    });
  }).catch((err: unknown) => {
    throw isUniqueViolation(err) ? taken : err;
  });
  return {
    id: row.id,
    name: row.name,
    kind: "robot" as const,
    namespaces: row.namespaces,
    actions: row.actions as RobotAction[],
    /** The secret: shown once, never stored. */
    token,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    warnings: scopeWarnings(ctx.actor, input),
  };
}
