import { createHash, randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";

/** Argon2id with the library's defaults (OWASP-recommended parameters). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password).catch(() => false);
}

/** A bearer secret with enough entropy that storing only its sha256 is safe. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** Sessions and tokens are stored by hash, so a database leak does not leak credentials. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
