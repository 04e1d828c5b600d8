/**
 * The one place that decides who may do what (see the permission model in the README).
 * Pure functions over the request's Actor: the tRPC middleware (auth/guard.ts), the plain HTTP
 * endpoints and the registry API all ask here, so a rule changes in one file.
 */
import { TRPCError } from "@trpc/server";
import { tryParseReference } from "@berth/engine";
import type { Actor, GrantRole, Role, RobotAction } from "./actor";

/** Everything a person or token can be allowed to do. */
export const ACTIONS = [
  "read",
  "pull",
  "load",
  "tag",
  "push",
  "remove",
  "prune",
  "protect",
  "pin",
  "registries",
  "users",
  "public-namespaces",
  "audit-archive",
  "audit-verify",
] as const;
export type Action = (typeof ACTIONS)[number];

/** Lowest first: a role can do everything the roles before it can. */
export const ROLES = ["viewer", "developer", "maintainer", "admin"] as const satisfies readonly Role[];
export const GRANT_ROLES = ["developer", "maintainer"] as const satisfies readonly GrantRole[];
/** What a robot token's scope may name; everything else is for people only. */
export const ROBOT_ACTIONS = ["read", "pull", "push", "tag", "remove", "load"] as const satisfies readonly RobotAction[];
/** A robot scope of `["*"]` covers every namespace. */
export const ALL_NAMESPACES = "*";

const MINIMUM: Record<Action, Role> = {
  read: "viewer",
  pull: "developer",
  load: "developer",
  tag: "developer",
  push: "developer",
  remove: "maintainer",
  prune: "maintainer",
  protect: "maintainer",
  pin: "maintainer",
  registries: "admin",
  users: "admin",
  "public-namespaces": "admin",
  "audit-archive": "admin",
  "audit-verify": "admin",
};

/** Judged with the default role only: they concern no single namespace. */
const GLOBAL = new Set<Action>(["prune", "registries", "users", "public-namespaces", "audit-archive", "audit-verify"]);

/**
 * What anyone, signed in or not, may do in a namespace an admin made public: read it, which the
 * registry API's `pull` scope is (manifests, blobs, tags, the catalog). Not Berth's `pull`: that
 * fetches from an upstream registry into the store (a mirror fill), which stays a developer's.
 */
const PUBLIC = new Set<Action>(["read"]);

const DOING: Record<Action, string> = {
  read: "reading",
  pull: "pulling",
  load: "loading",
  tag: "tagging",
  push: "pushing",
  remove: "removing tags and images",
  prune: "pruning",
  protect: "changing tag protection",
  pin: "pinning images",
  registries: "changing registry settings",
  users: "managing users",
  "public-namespaces": "making namespaces public or private",
  "audit-archive": "archiving the audit log",
  "audit-verify": "verifying the audit log",
};

export const rank = (role: Role): number => (ROLES as readonly Role[]).indexOf(role);
export const minimumRole = (action: Action): Role => MINIMUM[action];
export const isGlobalAction = (action: Action): boolean => GLOBAL.has(action);
export const isRobotAction = (action: string): action is RobotAction => (ROBOT_ACTIONS as readonly string[]).includes(action);

/**
 * The namespace a reference belongs to: the first path component after the registry domain of
 * the normalised name (`redis` → `library`, `localhost:5000/team-a/app` → `team-a`).
 * null for an image ID (`sha256:…`) or something that is not a reference: judged like a
 * dangling image, with the default role only.
 */
export function namespaceOf(ref: string): string | null {
  const text = ref.trim();
  if (text.startsWith("sha256:")) return null;
  const parsed = tryParseReference(text);
  if (!parsed) return null;
  return parsed.path.split("/")[0] ?? null;
}

/** The person's role in a namespace: the higher of the default role and a grant there. */
export function effectiveRole(actor: Pick<Actor, "role" | "grants">, namespace: string | null): Role {
  const granted = namespace === null ? undefined : actor.grants?.get(namespace);
  return granted && rank(granted) > rank(actor.role) ? granted : actor.role;
}

export type Decision = { allowed: true; reason: null } | { allowed: false; reason: string };

const ALLOW: Decision = { allowed: true, reason: null };
const deny = (reason: string): Decision => ({ allowed: false, reason });
const quoted = (namespace: string) => `"${namespace}"`;

/** What a person may do: `who` is "you" for the caller, the owner's name for a robot. */
function personDecision(actor: Actor, action: Action, namespace: string | null, who: string): Decision {
  const needed = MINIMUM[action];
  const global = GLOBAL.has(action) || namespace === null;
  const role = global ? actor.role : effectiveRole(actor, namespace);
  if (rank(role) >= rank(needed)) return ALLOW;
  if (needed === "admin") return deny(who === "you" ? "only an admin can do this" : `only an admin can do this (${who} is ${role})`);
  const is = who === "you" ? "you are" : `${who} is`;
  if (global) return deny(`${DOING[action]} needs the ${needed} role (${is} ${role})`);
  return deny(`${DOING[action]} in namespace ${quoted(namespace)} needs the ${needed} role (${is} ${role} there)`);
}

function robotScopeDecision(robot: NonNullable<Actor["robot"]>, action: Action, namespace: string | null): Decision {
  const name = `robot token "${robot.name}"`;
  if (!isRobotAction(action) || !robot.actions.includes(action)) {
    return deny(`${name} is not scoped for ${DOING[action]} (its actions: ${robot.actions.join(", ") || "none"})`);
  }
  if (robot.namespaces.includes(ALL_NAMESPACES)) return ALLOW;
  const scope = robot.namespaces.map(quoted).join(", ") || "none";
  // Listings and image IDs concern no namespace: reading them is fine, changing them needs `*`.
  if (namespace === null) {
    return action === "read" ? ALLOW : deny(`${name} is limited to namespaces ${scope}: ${DOING[action]} outside a namespace needs "*"`);
  }
  if (robot.namespaces.includes(namespace)) return ALLOW;
  return deny(`${name} is limited to namespaces ${scope}: ${DOING[action]} in namespace ${quoted(namespace)} is outside its scope`);
}

/**
 * Which namespaces are public, where the caller knows (the registry API loads them per request,
 * services/public-namespaces.ts); without it, none counts as public.
 */
export interface Visibility {
  publicNamespaces?: ReadonlySet<string>;
}

export const isPublicNamespace = (visibility: Visibility, namespace: string | null): boolean =>
  namespace !== null && (visibility.publicNamespaces?.has(namespace) ?? false);

/** Whether `actor` may do `action` in `namespace` (null: no namespace), and if not, why. */
export function explain(actor: Actor | null, action: Action, namespace: string | null, visibility: Visibility = {}): Decision {
  const open = isPublicNamespace(visibility, namespace);
  // Anyone could read a public namespace anonymously: a scoped robot or a viewer may too.
  if (open && PUBLIC.has(action)) return ALLOW;
  if (!actor) {
    // Said only where it helps: a public namespace refuses anonymous callers everything but pulling.
    const publicOnly = open && namespace !== null ? `namespace ${quoted(namespace)} is public for pulling only: ` : "";
    return deny(publicOnly ? `${publicOnly}${DOING[action]} needs signing in` : "not signed in");
  }
  if (!actor.robot) return personDecision(actor, action, namespace, "you");
  const scope = robotScopeDecision(actor.robot, action, namespace);
  if (!scope.allowed) return scope;
  // A robot never has more than its owner has now: a demoted owner's robots are demoted too.
  const owner = personDecision(actor, action, namespace, actor.username);
  return owner.allowed ? ALLOW : deny(`robot token "${actor.robot.name}" acts for ${actor.username}: ${owner.reason}`);
}

export function can(actor: Actor | null, action: Action, namespace: string | null, visibility: Visibility = {}): boolean {
  return explain(actor, action, namespace, visibility).allowed;
}

/** Whether there is any namespace where `actor` may do `action` (a cheap gate before a large upload). */
export function canSomewhere(actor: Actor | null, action: Action): boolean {
  if (!actor) return false;
  // No namespace stands for every namespace without a grant (the default role; a robot's "*").
  const candidates: (string | null)[] = [null, ...(actor.grants?.keys() ?? [])];
  if (actor.robot) candidates.push(...actor.robot.namespaces.filter((n) => n !== ALL_NAMESPACES));
  return candidates.some((namespace) => can(actor, action, namespace));
}

/** A thing to check: an explicit namespace (null: none), or a reference whose namespace counts. */
export type PermissionTarget = { namespace: string | null } | { ref: string };

export function targetNamespace(target: PermissionTarget): string | null {
  return "ref" in target ? namespaceOf(target.ref) : target.namespace;
}

/** Raised for a refused action; `namespace` is the one that was refused. */
export class PermissionDenied extends TRPCError {
  constructor(
    readonly reason: string,
    readonly action: Action,
    readonly namespace: string | null,
    signedIn: boolean,
  ) {
    super({ code: signedIn ? "FORBIDDEN" : "UNAUTHORIZED", message: reason });
  }
}

/**
 * Throws PermissionDenied (FORBIDDEN; UNAUTHORIZED without an actor) unless `actor` may do
 * `action` in every namespace of `targets` (no targets, or a global action: judged with no namespace).
 */
export function authorize(actor: Actor | null, action: Action, targets: readonly PermissionTarget[] = []): void {
  const namespaces = new Set(targets.length && !GLOBAL.has(action) ? targets.map(targetNamespace) : [null]);
  for (const namespace of namespaces) {
    const decision = explain(actor, action, namespace);
    if (!decision.allowed) throw new PermissionDenied(decision.reason, action, namespace, actor !== null);
  }
}

/** What the dashboard needs to hide what the caller cannot do (it still asks the server to explain). */
export function permissionSummary(actor: Actor) {
  return {
    role: actor.role,
    grants: [...(actor.grants ?? new Map<string, GrantRole>())]
      .map(([namespace, role]) => ({ namespace, role }))
      .sort((a, b) => a.namespace.localeCompare(b.namespace)),
    robot: actor.robot ? { name: actor.robot.name, namespaces: [...actor.robot.namespaces], actions: [...actor.robot.actions] } : null,
    /** Actions that concern no namespace, answered for the caller. */
    global: {
      prune: can(actor, "prune", null),
      registries: can(actor, "registries", null),
      users: can(actor, "users", null),
      publicNamespaces: can(actor, "public-namespaces", null),
      auditArchive: can(actor, "audit-archive", null),
      auditVerify: can(actor, "audit-verify", null),
    },
    /** Per action: may the caller do it in some namespace (show the button), before asking for a specific one. */
    somewhere: Object.fromEntries(ACTIONS.map((action) => [action, canSomewhere(actor, action)])) as Record<Action, boolean>,
  };
}
export type PermissionSummary = ReturnType<typeof permissionSummary>;
