import { TRPCError } from "@trpc/server";
import { ConflictError, resolveImage, tagFamiliarString } from "@berth/engine";
import { PrismaMetadataStore, type Transaction } from "@berth/db";
import type { Context } from "../context";
import { audited } from "../audit/record";
import { ProtectionRules } from "./tag-protection";

type Ctx = Pick<Context, "services" | "request" | "actor">;

export interface RuleView {
  id: string;
  namespace: string;
  pattern: string;
  createdBy: string;
  createdAt: Date;
}

const ruleView = { id: true, namespace: true, pattern: true, createdBy: true, createdAt: true } as const;

/** Rules are shown in the audit as `team-a/*:release-*`: the tags they cover. */
const ruleTarget = (r: { namespace: string; pattern: string }) => ({ ref: `${r.namespace}/*:${r.pattern}` });

export function listRules(ctx: Ctx, namespace?: string): Promise<RuleView[]> {
  return ctx.services.db.tagProtectionRule.findMany({
    where: namespace ? { namespace } : {},
    select: ruleView,
    orderBy: [{ namespace: "asc" }, { pattern: "asc" }],
  });
}

export function addRule(ctx: Ctx, input: { namespace: string; pattern: string }): Promise<RuleView> {
  return audited(
    ctx,
    {
      action: "protection.rule.add",
      targets: [ruleTarget(input)],
      details: { namespace: input.namespace, pattern: input.pattern },
      describe: (rule) => ({
        details: { before: null, after: { namespace: rule.namespace, pattern: rule.pattern, createdBy: rule.createdBy } },
      }),
    },
    async (tx: Transaction) => {
      const existing = await tx.tagProtectionRule.findUnique({ where: { namespace_pattern: input }, select: ruleView });
      if (existing) {
        throw new ConflictError(`rule "${input.pattern}" already exists in namespace ${input.namespace} (added by ${existing.createdBy})`);
      }
      return tx.tagProtectionRule.create({ data: { ...input, createdBy: ctx.actor?.username ?? "anonymous" }, select: ruleView });
    },
  );
}

export function removeRule(ctx: Ctx, input: { namespace: string; pattern: string }): Promise<RuleView> {
  return audited(
    ctx,
    {
      action: "protection.rule.remove",
      targets: [ruleTarget(input)],
      details: { namespace: input.namespace, pattern: input.pattern },
      describe: (rule) => ({
        details: {
          before: { namespace: rule.namespace, pattern: rule.pattern, createdBy: rule.createdBy, createdAt: rule.createdAt.toISOString() },
          after: null,
        },
      }),
    },
    async (tx: Transaction) => {
      const existing = await tx.tagProtectionRule.findUnique({ where: { namespace_pattern: input }, select: ruleView });
      if (!existing) throw new TRPCError({ code: "NOT_FOUND", message: `no rule "${input.pattern}" in namespace ${input.namespace}` });
      await tx.tagProtectionRule.delete({ where: { id: existing.id } });
      return existing;
    },
  );
}

/** What the image page shows: whether the image is pinned, and which of its tags a rule protects. */
export async function imageProtectionFor(ctx: Ctx, ref: string) {
  const meta = new PrismaMetadataStore(ctx.services.db);
  const image = await resolveImage({ meta, ref });
  const rules = new ProtectionRules(ctx.services.db);
  const tags = await meta.listTags({ imageId: image.id });
  return {
    id: image.id.toString(),
    pinned: image.pinned,
    tags: await Promise.all(
      tags.map(async (t) => ({ ref: tagFamiliarString(t), rule: (await rules.protecting(t.repository, t.tag)) ?? null })),
    ),
  };
}
