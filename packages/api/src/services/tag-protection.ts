import type { DbClient } from "@berth/db";
import { TagChangeDeniedError, type TagChange, type TagPolicy } from "@berth/engine";
import type { Actor } from "../auth/actor";
import { namespaceOf } from "../auth/permissions";
import { ruleFor } from "./tag-rules";

/** The rule that protects a tag. */
export interface MatchedRule {
  namespace: string;
  pattern: string;
}

/** Reads the rules of each namespace once per operation (an rmi of many tags asks many times). */
export class ProtectionRules {
  private readonly byNamespace = new Map<string, Promise<MatchedRule[]>>();
  constructor(private readonly db: DbClient) {}

  /** The rule protecting `repository:tag` (repository normalised, e.g. docker.io/team-a/app), if any. */
  async protecting(repository: string, tag: string): Promise<MatchedRule | undefined> {
    const namespace = namespaceOf(repository);
    if (namespace === null) return undefined;
    let rules = this.byNamespace.get(namespace);
    if (!rules) {
      rules = this.db.tagProtectionRule.findMany({ where: { namespace }, select: { namespace: true, pattern: true } });
      this.byNamespace.set(namespace, rules);
    }
    return ruleFor(await rules, tag);
  }
}

/**
 * Only an admin moves or removes a protected tag, and only in person: a robot token never does,
 * whoever created it (release tags are exactly what an automated job must not rewrite).
 */
export function mayOverrideProtection(actor: Actor | null): boolean {
  return actor?.role === "admin" && !actor.robot;
}

export class ProtectedTagError extends TagChangeDeniedError {
  constructor(
    readonly ref: string,
    readonly rule: MatchedRule,
    robot: boolean,
  ) {
    super(
      `tag ${ref} is protected by rule "${rule.pattern}" in namespace ${rule.namespace}; ` +
        `only an admin can move or remove it${robot ? ", and not with a robot token" : ""}`,
    );
  }
}

export interface Override {
  ref: string;
  namespace: string;
  pattern: string;
}

/** The tag policy of one operation by `actor`, reading rules through `db` (the operation's transaction). */
export class TagProtection implements TagPolicy {
  private readonly rules: ProtectionRules;
  /** Protected tags an admin moved or removed: recorded in the operation's audit event. */
  readonly overridden: Override[] = [];

  constructor(
    db: DbClient,
    private readonly actor: Actor | null,
  ) {
    this.rules = new ProtectionRules(db);
  }

  async checkTagChange(change: TagChange): Promise<void> {
    const rule = await this.rules.protecting(change.repository, change.tag);
    if (!rule) return;
    const ref = `${change.repository}:${change.tag}`;
    if (!mayOverrideProtection(this.actor)) throw new ProtectedTagError(ref, rule, Boolean(this.actor?.robot));
    this.overridden.push({ ref, ...rule });
  }

  /** For an audit event's details: which protected tags an admin changed, and under which rule. */
  auditDetails(): Record<string, unknown> {
    return this.overridden.length ? { protectedTagsOverridden: this.overridden } : {};
  }
}
