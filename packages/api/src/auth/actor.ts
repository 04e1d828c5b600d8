import type { Database } from "@berth/db";
import { hashSecret } from "./secrets";

export type Role = "admin" | "maintainer" | "developer" | "viewer";

/** The person a request acts for; `tokenId` is set when a personal API token was used. */
export interface Actor {
  userId: string;
  username: string;
  role: Role;
  tokenId?: string;
}

export const TOKEN_PREFIX = "berth_";

export async function actorFromCredentials(db: Database, creds: { bearer?: string; session?: string }): Promise<Actor | null> {
  const now = new Date();
  if (creds.bearer) {
    const token = await db.apiToken.findUnique({
      where: { tokenHash: hashSecret(creds.bearer) },
      include: { user: true },
    });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now) || token.user.disabledAt) {
      return null;
    }
    // Last use is informational; a lost update under concurrency is harmless.
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } }).catch(() => undefined);
    return { userId: token.user.id, username: token.user.username, role: token.user.role as Role, tokenId: token.id };
  }
  if (creds.session) {
    const session = await db.session.findUnique({
      where: { id: hashSecret(creds.session) },
      include: { user: true },
    });
    if (!session || session.expiresAt <= now || session.user.disabledAt) return null;
    return { userId: session.user.id, username: session.user.username, role: session.user.role as Role };
  }
  return null;
}
