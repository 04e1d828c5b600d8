import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { DEFAULT_URL, type Env } from "./env";
import { LocalError } from "./errors";

/** What `berth login` stores: one server and its personal token. */
export interface StoredLogin {
  url: string;
  token: string;
  /** Id of the token on the server, so `logout` can revoke it. */
  tokenId?: string;
  username?: string;
}

/** `http://host:3000/` and `http://host:3000` are the same server. */
export function normalizeUrl(url: string): string {
  const trimmed = url.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)
    ? trimmed
    : `${/^(localhost|127\.|\[::1\])/i.test(trimmed) ? "http" : "https"}://${trimmed}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new LocalError(`invalid server address: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new LocalError(`invalid server address: ${url} (only http:// and https:// are supported)`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}

export async function readLogin(path: string): Promise<StoredLogin | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new LocalError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LocalError(`${path} is not valid JSON; remove it and run 'berth login' again`);
  }
  if (!value || typeof value !== "object") return undefined;
  const { url, token, tokenId, username } = value as Record<string, unknown>;
  if (typeof url !== "string" || typeof token !== "string" || !token) return undefined;
  return {
    url,
    token,
    tokenId: typeof tokenId === "string" ? tokenId : undefined,
    username: typeof username === "string" ? username : undefined,
  };
}

/** Writes the login readable only by the user (0600), atomically. */
export async function writeLogin(path: string, login: StoredLogin): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new LocalError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

export async function removeLogin(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The server and token a command uses: `BERTH_URL`/`BERTH_TOKEN` win over the stored login. */
export interface Target {
  url: string;
  token?: string;
}

/**
 * The stored token is only sent to the server it was issued by: pointing `BERTH_URL` at
 * another server does not leak it there.
 */
export function resolveTarget(env: Pick<Env, "url" | "token">, stored: StoredLogin | undefined): Target {
  const url = normalizeUrl(env.url ?? stored?.url ?? DEFAULT_URL);
  const storedToken = stored && normalizeUrl(stored.url) === url ? stored.token : undefined;
  return { url, token: env.token ?? storedToken };
}
