import { timingSafeEqual } from "node:crypto";
import type { SecretBox } from "../services/secret-box";

/** What a registry bearer token grants: per repository name, the scope actions (`pull`, `push`, `delete`). */
export interface TokenClaims {
  /** The user it was issued to; null for an anonymous token. */
  sub: string | null;
  /** The API token (personal or robot) the user signed in with, so its scope and revocation keep counting. */
  tid: string | null;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  access: { type: "repository" | "registry"; name: string; actions: string[] }[];
}

/** Registry tokens live minutes: a revoked person or token stops at the next token request. */
export const TOKEN_LIFETIME_SECONDS = 300;
const PURPOSE = "registry bearer token";

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

/** `<claims>.<hmac>`: opaque to clients, checked by any replica sharing the server key. */
export function signToken(secrets: SecretBox, claims: TokenClaims): string {
  const payload = encode(claims);
  return `${payload}.${secrets.mac(payload, PURPOSE).toString("base64url")}`;
}

/** The claims of a genuine, unexpired token; a reason otherwise. */
export function verifyToken(secrets: SecretBox, token: string, now = Date.now()): { claims: TokenClaims } | { failure: string } {
  const [payload, signature, extra] = token.split(".");
  if (!payload || !signature || extra !== undefined) return { failure: "malformed registry token" };
  const expected = secrets.mac(payload, PURPOSE);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { failure: "invalid registry token" };
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
  } catch {
    return { failure: "malformed registry token" };
  }
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= now) return { failure: "registry token expired" };
  if (!Array.isArray(claims.access)) return { failure: "malformed registry token" };
  return { claims };
}

/** The actions the token grants on one repository. */
export function grantedActions(claims: TokenClaims, name: string): Set<string> {
  const actions = claims.access.filter((a) => a.type === "repository" && a.name === name).flatMap((a) => a.actions);
  return new Set(actions.includes("*") ? ["pull", "push", "delete"] : actions);
}
