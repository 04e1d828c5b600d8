import { Prisma } from "./generated/prisma/client";
import type { DbClient } from "./client";

/** A person as authentication needs them: their default role, disabled or not, and their namespace grants. */
export interface PrincipalUser {
  id: string;
  username: string;
  role: string;
  disabledAt: Date | null;
  grants: { namespace: string; role: string }[];
}

export interface PrincipalToken {
  id: string;
  userId: string;
  name: string;
  kind: string;
  namespaces: string[];
  actions: string[];
  revokedAt: Date | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export interface PrincipalSession {
  expiresAt: Date;
}

/** What a credential names: the person, and the API token or session that named them. */
export interface Principal {
  user: PrincipalUser;
  token?: PrincipalToken;
  session?: PrincipalSession;
  /** Only when looked up by username, for a password check. */
  passwordHash?: string;
}

export type PrincipalKey = { userId: string } | { username: string } | { tokenId: string } | { tokenHash: string } | { sessionId: string };

// Every API and registry request is authenticated: one round trip, the grants aggregated in
// the same statement (Prisma's `include` sends a second query for them).
const USER = Prisma.sql`u.id, u.username, u.role, u.disabled_at AS "disabledAt",
  COALESCE((SELECT json_agg(json_build_object('namespace', g.namespace, 'role', g.role))
            FROM namespace_grants g WHERE g.user_id = u.id), '[]'::json) AS grants`;
const TOKEN = Prisma.sql`t.id AS "tokenId", t.name AS "tokenName", t.kind, t.namespaces, t.actions,
  t.revoked_at AS "revokedAt", t.expires_at AS "tokenExpiresAt", t.last_used_at AS "lastUsedAt"`;

type UserRow = PrincipalUser;
type TokenRow = UserRow & {
  tokenId: string;
  tokenName: string;
  kind: string;
  namespaces: string[];
  actions: string[];
  revokedAt: Date | null;
  tokenExpiresAt: Date | null;
  lastUsedAt: Date | null;
};
type SessionRow = UserRow & { sessionExpiresAt: Date };

const userOf = (row: UserRow): PrincipalUser => ({
  id: row.id,
  username: row.username,
  role: row.role,
  disabledAt: row.disabledAt,
  grants: row.grants,
});

/** The person (and token or session) a credential's key names, or null when there is none. */
export async function findPrincipal(db: DbClient, key: PrincipalKey): Promise<Principal | null> {
  if ("userId" in key) {
    const [row] = await db.$queryRaw<UserRow[]>`SELECT ${USER} FROM users u WHERE u.id = ${key.userId}::uuid`;
    return row ? { user: userOf(row) } : null;
  }
  if ("username" in key) {
    const [row] = await db.$queryRaw<(UserRow & { passwordHash: string })[]>`
      SELECT ${USER}, u.password_hash AS "passwordHash" FROM users u WHERE u.username = ${key.username}`;
    return row ? { user: userOf(row), passwordHash: row.passwordHash } : null;
  }
  if ("sessionId" in key) {
    const [row] = await db.$queryRaw<SessionRow[]>`
      SELECT ${USER}, s.expires_at AS "sessionExpiresAt"
      FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ${key.sessionId}`;
    return row ? { user: userOf(row), session: { expiresAt: row.sessionExpiresAt } } : null;
  }
  const where = "tokenId" in key ? Prisma.sql`t.id = ${key.tokenId}::uuid` : Prisma.sql`t.token_hash = ${key.tokenHash}`;
  const [row] = await db.$queryRaw<TokenRow[]>`
    SELECT ${USER}, ${TOKEN} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE ${where}`;
  if (!row) return null;
  return {
    user: userOf(row),
    token: {
      id: row.tokenId,
      userId: row.id,
      name: row.tokenName,
      kind: row.kind,
      namespaces: row.namespaces,
      actions: row.actions,
      revokedAt: row.revokedAt,
      expiresAt: row.tokenExpiresAt,
      lastUsedAt: row.lastUsedAt,
    },
  };
}
