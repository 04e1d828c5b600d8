import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Seals secrets the server must use again later (registry passwords) with AES-256-GCM under
 * the server key, so the database alone does not reveal them. Each value is bound to what it
 * belongs to (`context`, e.g. `registry:docker.io`): a sealed value copied onto another row
 * does not open there.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws SecretBoxError when the key is not the one the value was sealed with, or the value was altered. */
  open(sealed: string, context: string): string;
  /**
   * HMAC-SHA256 of `data` under a key derived from the server key for `purpose` (e.g. registry
   * bearer tokens): every replica with the same key agrees, and the server key itself is never used directly.
   */
  mac(data: string, purpose: string): Buffer;
}

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretBoxError";
  }
}

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`the secret key must be ${KEY_BYTES} bytes, got ${key.length}`);
  const macKeys = new Map<string, Buffer>();
  return {
    mac(data, purpose) {
      let macKey = macKeys.get(purpose);
      if (!macKey) {
        macKey = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), `berth mac: ${purpose}`, KEY_BYTES));
        macKeys.set(purpose, macKey);
      }
      return createHmac("sha256", macKey).update(data, "utf8").digest();
    },
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
    },
    open(sealed, context) {
      const [version, payload] = sealed.split(":", 2);
      const raw = version === VERSION && payload ? Buffer.from(payload, "base64") : Buffer.alloc(0);
      if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError("the stored secret is not in a format this server can read");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
      } catch {
        // GCM authenticates: a wrong key fails here instead of yielding garbage.
        throw new SecretBoxError(
          "cannot decrypt a stored secret: the server's secret key (BERTH_SECRET_KEY or <data dir>/secret.key) is not the one it was stored with",
        );
      }
    },
  };
}

/** `BERTH_SECRET_KEY`: base64 of exactly 32 bytes. */
export function parseSecretKey(base64: string): Buffer {
  const text = base64.trim();
  const key = Buffer.from(text, "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== KEY_BYTES) {
    throw new SecretBoxError(`BERTH_SECRET_KEY must be the base64 of ${KEY_BYTES} random bytes (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

/**
 * The server key: `BERTH_SECRET_KEY` when given, else `<dataDir>/secret.key`, created once
 * (mode 0600, exclusively, so two replicas starting on one data directory agree on it).
 */
export async function loadSecretKey(opts: { dataDir: string; secretKey?: string }): Promise<{ key: Buffer; source: string }> {
  if (opts.secretKey) return { key: parseSecretKey(opts.secretKey), source: "BERTH_SECRET_KEY" };
  const file = path.join(opts.dataDir, "secret.key");
  try {
    await writeFile(file, `${randomBytes(KEY_BYTES).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  await chmod(file, 0o600);
  try {
    return { key: parseSecretKey(await readFile(file, "utf8")), source: file };
  } catch (err) {
    throw new SecretBoxError(`${file}: ${(err as Error).message.replace(/^BERTH_SECRET_KEY /, "the key ")}`);
  }
}
