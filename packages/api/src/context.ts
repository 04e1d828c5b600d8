import type { BlobStore } from "@berth/engine";
import type { CachedMetadataReads, Database } from "@berth/db";
import { actorFromCredentials, type Actor } from "./auth/actor";
import type { BlobLock } from "./services/blob-lock";
import type { SecretBox } from "./services/secret-box";

/** Long-lived things a request works with; created once per server process. */
export interface Services {
  db: Database;
  blobs: BlobStore;
  /** Read-only metadata for listings, cached in memory while the store is unchanged. */
  reads: CachedMetadataReads;
  /** Loads hold it shared, blob garbage collection exclusively. */
  blobLock: BlobLock;
  /** Seals secrets the server uses again (registry passwords) with the server key. */
  secrets: SecretBox;
  /** How long a tag cached by the pull-through mirror is served before it is checked against upstream; default 300. */
  mirrorTtlSeconds?: number;
  /** Gzip layers pushed through /v2/ up to this size are checked before the push is answered; default 16 MiB (services/layer-check.ts). */
  layerCheckInlineBytes?: number;
}

export type ClientInterface = "web" | "cli" | "api" | "registry";

/** Where a request came from, as recorded in the audit log. */
export interface RequestInfo {
  ip: string | null;
  userAgent: string | null;
  interface: ClientInterface;
}

export interface Context {
  services: Services;
  request: RequestInfo;
  actor: Actor | null;
  /** Why there is no actor ("not signed in", "token expired", "token revoked", …), audited on refusal. */
  authFailure?: string;
  /** The browser session's secret, when the request came with one (to keep it on password change). */
  sessionSecret?: string;
  /** `<scheme>://<host>` the client reached Berth at (what machines are told to use as their mirror). */
  baseUrl?: string;
}

export const SESSION_COOKIE = "berth_session";

function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

function clientIp(headers: Headers, fallback: string | null): string | null {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || headers.get("x-real-ip") || fallback;
}

/**
 * Builds the request context from HTTP headers: a session cookie (browser) or an
 * `Authorization: Bearer <token>` header (CLI and scripts) identifies the actor.
 */
export async function createContext(opts: {
  services: Services;
  headers: Headers;
  remoteAddress?: string | null;
  baseUrl?: string;
}): Promise<Context> {
  const { headers, services } = opts;
  const bearer = headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
  const session = cookieValue(headers.get("cookie"), SESSION_COOKIE);
  const { actor, failure } = await actorFromCredentials(services.db, { bearer, session });
  const declared = headers.get("x-berth-client");
  const iface: ClientInterface = declared === "cli" ? "cli" : declared === "web" || (session && !bearer) ? "web" : "api";
  return {
    services,
    actor,
    authFailure: failure,
    sessionSecret: session,
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    request: {
      ip: clientIp(headers, opts.remoteAddress ?? null),
      userAgent: headers.get("user-agent"),
      interface: iface,
    },
  };
}
