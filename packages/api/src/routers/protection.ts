import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { can, canSomewhere, explain, namespaceOf } from "../auth/permissions";
import { addRule, imageProtectionFor, listRules, removeRule } from "../services/protection";
import { namespaceInput, patternInput } from "../services/tag-rules";
import { permittedProcedure } from "../trpc";

const rule = z.object({ namespace: namespaceInput, pattern: patternInput });

/**
 * Tag protection rules: anyone who may read sees them; `protect` in the namespace (maintainer
 * there, or admin) adds and removes them. Changes are audited with before/after.
 */
export const protectionRouter = {
  /** `canRemove` tells the dashboard which rules the caller may remove (the server still decides). */
  rules: permittedProcedure("read", {
    input: z.object({ namespace: namespaceInput.optional() }).default({}),
  }).query(async ({ ctx, input }) =>
    (await listRules(ctx, input.namespace)).map((r) => ({ ...r, canRemove: can(ctx.actor, "protect", r.namespace) })),
  ),

  /** Whether the caller may add rules in some namespace, and if not, why (for the dashboard). */
  access: permittedProcedure("read").query(({ ctx }) => {
    const canAdd = canSomewhere(ctx.actor, "protect");
    return { canAdd, reason: canAdd ? null : explain(ctx.actor, "protect", null).reason };
  }),

  add: permittedProcedure("protect", {
    input: rule,
    targets: (input) => [{ namespace: input.namespace }],
    audit: "protection.rule.add",
  }).mutation(({ ctx, input }) => addRule(ctx, input)),

  remove: permittedProcedure("protect", {
    input: rule,
    targets: (input) => [{ namespace: input.namespace }],
    audit: "protection.rule.remove",
  }).mutation(({ ctx, input }) => removeRule(ctx, input)),

  /** Whether an image is pinned and which of its tags are protected, by which rule. */
  image: permittedProcedure("read", {
    input: z.object({ ref: z.string().trim().min(1, "an image reference is required") }),
    targets: (input) => [{ ref: input.ref }],
  }).query(async ({ ctx, input }) => {
    const status = await imageProtectionFor(ctx, input.ref);
    // Pinning is judged in the namespace of the reference the page uses (an ID: the default role).
    const decision = explain(ctx.actor, "pin", namespaceOf(input.ref));
    return { ...status, canPin: decision.allowed, pinDenied: decision.reason };
  }),
} satisfies TRPCRouterRecord;
