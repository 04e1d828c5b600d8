import type { Database } from "@berth/db";
import { hashSecret } from "./secrets";

export type Role = "admin" | "maintainer" | "developer" | "viewer";
/** A grant raises the role in one namespace; admin is only ever a default role. */
export type GrantRole = "developer" | "maintainer";
export type RobotAction = "read" | "pull" | "push" | "tag" | "remove" | "load";

/** What a robot token may do: `namespaces` may be `["*"]`. Its owner is the Actor's person. */
export interface RobotScope {
  tokenId: string;
  name: string;
  namespaces: readonly string[];
  actions: readonly RobotAction[];
}

/**
 * The person a request acts for, with what permissions.ts needs to decide (loaded once per request).
 * `tokenId` is set when an API token was used; `robot` when that token is a robot's, whose
 * owner is the person named here.
 */
export interface Actor {
  userId: string;
  username: string;
  /** The default role, in every namespace. */
  role: Role;
  /** Namespace → granted role; absent means none. */
  grants?: ReadonlyMap<string, GrantRole>;
  tokenId?: string;
  robot?: RobotScope;
}

export const TOKEN_PREFIX = "berth_";

/** The audit log's actor name: the person, or `robot:<name>` for a robot token. */
export function auditActorName(actor: Actor): string {
  return actor.robot ? `robot:${actor.robot.name}` : actor.username;
}

/** What the audit log adds to every event of a robot: which token, and who created it. */
export function auditActorDetails(actor: Actor | null | undefined): Record<string, unknown> {
  return actor?.robot ? { robot: { tokenId: actor.robot.tokenId, createdBy: actor.username } } : {};
}

/** Credentials were given (or not) and refused: the reason is audited and told to the client. */
export type Authentication = { actor: Actor; failure?: undefined } | { actor: null; failure: string };

const NOBODY: Authentication = { actor: null, failure: "not signed in" };

type UserWithGrants = {
  id: string;
  username: string;
  role: string;
  disabledAt: Date | null;
  grants: { namespace: string; role: string }[];
};

function personOf(user: UserWithGrants): Actor {
  return {
    userId: user.id,
    username: user.username,
    role: user.role as Role,
    grants: new Map(user.grants.map((g) => [g.namespace, g.role as GrantRole])),
  };
}

const withGrants = { user: { include: { grants: { select: { namespace: true, role: true } } } } } as const;

/**
 * Who a bearer token or session cookie stands for, with their grants (and a robot's scope),
 * or why they are refused: unknown, expired, revoked, or the account is disabled.
 */
export async function actorFromCredentials(db: Database, creds: { bearer?: string; session?: string }): Promise<Authentication> {
  const now = new Date();
  if (creds.bearer) {
    const token = await db.apiToken.findUnique({ where: { tokenHash: hashSecret(creds.bearer) }, include: withGrants });
    return tokenActor(db, token, now);
  }
  if (creds.session) {
    const session = await db.session.findUnique({ where: { id: hashSecret(creds.session) }, include: withGrants });
    // An unknown session is one that was signed out (or never existed): nobody is signed in.
    if (!session) return NOBODY;
    if (session.expiresAt <= now) return { actor: null, failure: "session expired" };
    if (session.user.disabledAt) return { actor: null, failure: "account disabled" };
    return { actor: personOf(session.user) };
  }
  return NOBODY;
}

type TokenWithUser = {
  id: string;
  name: string;
  kind: string;
  namespaces: string[];
  actions: string[];
  revokedAt: Date | null;
  expiresAt: Date | null;
  user: UserWithGrants;
};

async function tokenActor(db: Database, token: TokenWithUser | null, now: Date): Promise<Authentication> {
  if (!token) return { actor: null, failure: "unknown token" };
  if (token.revokedAt) return { actor: null, failure: "token revoked" };
  if (token.expiresAt && token.expiresAt <= now) return { actor: null, failure: "token expired" };
  if (token.user.disabledAt) return { actor: null, failure: "account disabled" };
  // Last use is informational; a lost update under concurrency is harmless.
  await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } }).catch(() => undefined);
  const actor: Actor = { ...personOf(token.user), tokenId: token.id };
  if (token.kind === "robot") {
    actor.robot = { tokenId: token.id, name: token.name, namespaces: token.namespaces, actions: token.actions as RobotAction[] };
  }
  return { actor };
}

/**
 * Who a registry bearer token acts for now: the API token it was issued for (still active), or
 * the person (still enabled), with today's grants.
 */
export async function actorForIssued(db: Database, issued: { userId: string; tokenId: string | null }): Promise<Authentication> {
  const now = new Date();
  if (issued.tokenId) {
    const token = await db.apiToken.findUnique({ where: { id: issued.tokenId }, include: withGrants });
    return tokenActor(db, token && token.userId === issued.userId ? token : null, now);
  }
  const user = await db.user.findUnique({ where: { id: issued.userId }, include: { grants: { select: { namespace: true, role: true } } } });
  if (!user) return { actor: null, failure: "unknown user" };
  if (user.disabledAt) return { actor: null, failure: "account disabled" };
  return { actor: personOf(user) };
}

/** A person's actor (grants loaded) by id, for sign-in and invitations, which start without one. */
export async function actorForUser(db: Pick<Database, "user">, userId: string): Promise<Actor> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId }, include: { grants: { select: { namespace: true, role: true } } } });
  return personOf(user);
}
