import { createHash, createHmac, randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";

/** Argon2id with the library's defaults (OWASP-recommended parameters). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/**
 * Recent successful checks, so a client that signs in again and again (docker and skopeo ask the
 * token server for every repository and every run) pays Argon2's ~15 ms once per few minutes.
 * Keyed by an HMAC, under a key that lives only in this process, of the stored hash and the
 * password: a changed password (a new hash) misses; entries expire; failures are never kept.
 */
const REMEMBER_MS = 5 * 60_000;
const REMEMBERED_MAX = 1000;
const rememberKey = randomBytes(32);
const remembered = new Map<string, number>();

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  const key = createHmac("sha256", rememberKey).update(passwordHash).update("\0").update(password).digest("base64");
  const until = remembered.get(key);
  if (until !== undefined && until > Date.now()) return true;
  remembered.delete(key);
  const ok = await verify(passwordHash, password).catch(() => false);
  if (ok) {
    // Oldest first (insertion order): the map never outgrows its bound.
    if (remembered.size >= REMEMBERED_MAX) remembered.delete(remembered.keys().next().value!);
    remembered.set(key, Date.now() + REMEMBER_MS);
  }
  return ok;
}

/** A bearer secret with enough entropy that storing only its sha256 is safe. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** Sessions and tokens are stored by hash, so a database leak does not leak credentials. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
