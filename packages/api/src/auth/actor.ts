import { findPrincipal, type Database, type Principal, type PrincipalUser } from "@berth/db";
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

/** A person's actor from what authentication looked up (their grants included). */
export function actorOf(user: PrincipalUser): Actor {
  return {
    userId: user.id,
    username: user.username,
    role: user.role as Role,
    grants: new Map(user.grants.map((g) => [g.namespace, g.role as GrantRole])),
  };
}

/**
 * Who a bearer token or session cookie stands for, with their grants (and a robot's scope),
 * or why they are refused: unknown, expired, revoked, or the account is disabled.
 */
export async function actorFromCredentials(db: Database, creds: { bearer?: string; session?: string }): Promise<Authentication> {
  const now = new Date();
  if (creds.bearer) return tokenActor(db, await findPrincipal(db, { tokenHash: hashSecret(creds.bearer) }), now);
  if (creds.session) {
    const found = await findPrincipal(db, { sessionId: hashSecret(creds.session) });
    // An unknown session is one that was signed out (or never existed): nobody is signed in.
    if (!found?.session) return NOBODY;
    if (found.session.expiresAt <= now) return { actor: null, failure: "session expired" };
    if (found.user.disabledAt) return { actor: null, failure: "account disabled" };
    return { actor: actorOf(found.user) };
  }
  return NOBODY;
}

/**
 * Last use is shown to the minute ("2 minutes ago"): a token a CI job sends with each of a push's
 * dozen requests is written once a minute, not once a request.
 */
const LAST_USED_RESOLUTION_MS = 60_000;

async function tokenActor(db: Database, found: Principal | null, now: Date): Promise<Authentication> {
  const token = found?.token;
  if (!found || !token) return { actor: null, failure: "unknown token" };
  if (token.revokedAt) return { actor: null, failure: "token revoked" };
  if (token.expiresAt && token.expiresAt <= now) return { actor: null, failure: "token expired" };
  if (found.user.disabledAt) return { actor: null, failure: "account disabled" };
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    // Informational; a lost update under concurrency is harmless.
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } }).catch(() => undefined);
  }
  const actor: Actor = { ...actorOf(found.user), tokenId: token.id };
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
    const found = await findPrincipal(db, { tokenId: issued.tokenId });
    return tokenActor(db, found?.user.id === issued.userId ? found : null, now);
  }
  const found = await findPrincipal(db, { userId: issued.userId });
  if (!found) return { actor: null, failure: "unknown user" };
  if (found.user.disabledAt) return { actor: null, failure: "account disabled" };
  return { actor: actorOf(found.user) };
}

/** A person's actor (grants loaded) by id: a job acts for whoever queued it, with their rights now. */
export async function actorForUser(db: Database, userId: string): Promise<Actor> {
  const found = await findPrincipal(db, { userId });
  if (!found) throw new Error(`no user with id ${userId}`);
  return actorOf(found.user);
}
