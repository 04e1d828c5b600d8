import { RegistryError, RegistryUnauthorizedError } from "./errors";
import { readCapped, readErrorBody, type Transport } from "./transport";

/**
 * Registry authentication: the `WWW-Authenticate` challenge decides between Basic and the
 * Bearer token flow (distribution's "token authentication specification"). Tokens are cached
 * per scope until shortly before they expire.
 */
export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

/** Parses `Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme !== "basic" && scheme !== "bearer") return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  re.lastIndex = 0;
  const rest = match[2] ?? "";
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null && m[0] !== "") {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
  }
  return { scheme, params };
}

/** Scope for pulling from a repository, as the token server expects it. */
export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}

/** Scope for pushing to a repository (a push also reads: HEAD of blobs, mounts). */
export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}

/**
 * Several scopes in one token (a cross-repository mount needs push on the target and pull on
 * the source): joined by spaces here, sent as one `scope` parameter each.
 */
export function scopes(...list: string[]): string {
  return list.join(" ");
}

export const CATALOG_SCOPE = "registry:catalog:*";

const TOKEN_MAX_BYTES = 1024 * 1024;
/** The spec's default when the server gives no `expires_in`. */
const DEFAULT_TOKEN_SECONDS = 60;
/** Refresh this long before a token expires. */
const EXPIRY_MARGIN_MS = 10_000;

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class Authenticator {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly host: string,
    private readonly transport: Transport,
    private readonly credentials?: Credentials,
    private readonly now: () => number = Date.now,
  ) {}

  get scheme(): "none" | "basic" | "bearer" {
    return this.challenge?.scheme ?? "none";
  }

  get hasCredentials(): boolean {
    return this.credentials !== undefined;
  }

  /** The Authorization header for a request in `scope`, or undefined before any challenge. */
  async authorization(scope: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") return this.credentials ? basic(this.credentials) : undefined;
    const key = scope ?? "";
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetchToken(challenge, scope, signal).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return `Bearer ${await pending}`;
  }

  /**
   * Records a 401's challenge and drops the cached token for the scope.
   * Returns true when a retry can succeed (a new scheme, or a token that may have gone stale).
   */
  onUnauthorized(header: string | string[] | undefined, scope: string | undefined, hadAuthorization: boolean): boolean {
    const headers = Array.isArray(header) ? header : [header];
    const challenges = headers.map(parseChallenge);
    // Prefer Bearer when a registry offers both.
    const challenge = challenges.find((c) => c?.scheme === "bearer") ?? challenges.find((c) => c !== undefined);
    if (!challenge) return false;
    const changed = challenge.scheme !== this.challenge?.scheme || challenge.params.realm !== this.challenge?.params.realm;
    this.challenge = challenge;
    this.tokens.delete(scope ?? "");
    if (challenge.scheme === "basic") return (changed || !hadAuthorization) && this.credentials !== undefined;
    return true;
  }

  private async fetchToken(challenge: Challenge, scope: string | undefined, signal?: AbortSignal): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError("protocol", `registry ${this.host} sent a Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError("protocol", `registry ${this.host} sent an invalid token realm`);
    }
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    for (const one of scope?.split(" ") ?? []) if (one) url.searchParams.append("scope", one);
    const what = `a token for ${scope ?? "the registry"} from ${url.host}`;
    const res = await this.transport.send({
      method: "GET",
      url,
      headers: { accept: "application/json" },
      authorization: this.credentials ? basic(this.credentials) : undefined,
      signal,
      what,
    });
    if (res.status === 401 || res.status === 403) {
      await readErrorBody(res.body);
      throw new RegistryUnauthorizedError(
        this.host,
        scope ?? "the registry",
        this.credentials ? "the token server rejected the credentials" : "no credentials given",
      );
    }
    if (res.status !== 200) {
      await readErrorBody(res.body);
      throw new RegistryError(res.status >= 500 ? "unavailable" : "protocol", `token server answered HTTP ${res.status} for ${what}`, {
        status: res.status,
      });
    }
    const body = await readCapped(res.body, TOKEN_MAX_BYTES, () => new RegistryError("protocol", `token response too large for ${what}`));
    let parsed: {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
      issued_at?: unknown;
    };
    try {
      parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
    } catch {
      throw new RegistryError("protocol", `token server sent invalid JSON for ${what}`);
    }
    const token = typeof parsed.token === "string" && parsed.token ? parsed.token : parsed.access_token;
    if (typeof token !== "string" || !token) throw new RegistryError("protocol", `token server sent no token for ${what}`);
    const seconds = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_SECONDS;
    const issued = typeof parsed.issued_at === "string" ? Date.parse(parsed.issued_at) : NaN;
    // Trust our clock over the server's unless its issued_at is sane.
    const start = Number.isFinite(issued) && Math.abs(issued - this.now()) < 60_000 ? issued : this.now();
    this.tokens.set(scope ?? "", {
      token,
      expiresAt: start + seconds * 1000 - Math.min(EXPIRY_MARGIN_MS, seconds * 500),
    });
    return token;
  }
}

function basic({ username, password }: Credentials): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}
