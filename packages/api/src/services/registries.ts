import { createHash } from "node:crypto";
import { TRPCError } from "@trpc/server";
import {
  clearRegistryCredentials,
  getRegistry,
  listRegistries,
  removeRegistry,
  saveRegistry,
  setRegistryCredentials,
  type RegistryConfig,
  type SaveRegistryInput,
} from "@berth/db";
import { RegistryClient, RegistryError } from "@berth/engine";
import type { Context } from "../context";
import { audited, recordFailure } from "../audit/record";
import { errorMessage } from "../errors";
import { accessFrom, credentialsContext, mirrorEndpoint, recordMirrorResult } from "./registry-access";

/** Docker Hub is where unqualified references go: it is always configured. */
export const DOCKER_HUB = "docker.io";

type Ctx = Pick<Context, "services" | "actor" | "request">;

/** A registry as every signed-in person sees it: never the password, only who set the credentials. */
export interface RegistryView {
  domain: string;
  insecure: boolean;
  /** Pulls use the mirrors alone, never the registry itself. */
  mirrorsOnly: boolean;
  ca: string | null;
  username: string | null;
  credentialsSetBy: string | null;
  credentialsSetAt: Date | null;
  updatedAt: Date;
  removable: boolean;
  mirrors: MirrorView[];
}

export interface MirrorView {
  url: string;
  position: number;
  healthy: boolean;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  latencyMs: number | null;
  bytesServed: number;
  unhealthyUntil: Date | null;
}

export function registryView(config: RegistryConfig, now = new Date()): RegistryView {
  return {
    domain: config.domain,
    insecure: config.insecure,
    mirrorsOnly: config.mirrorsOnly,
    ca: config.ca,
    username: config.username,
    credentialsSetBy: config.credentialsSetBy,
    credentialsSetAt: config.credentialsSetAt,
    updatedAt: config.updatedAt,
    removable: config.domain !== DOCKER_HUB,
    mirrors: config.mirrors.map((m) => ({
      url: m.url,
      position: m.position,
      healthy: m.unhealthyUntil === null || m.unhealthyUntil <= now,
      lastSuccessAt: m.lastSuccessAt,
      lastError: m.lastError,
      lastErrorAt: m.lastErrorAt,
      latencyMs: m.latencyMs,
      bytesServed: m.bytesServed,
      unhealthyUntil: m.unhealthyUntil,
    })),
  };
}

/**
 * A registry's settings as the audit log records them: the password never, only whether one
 * is set (`"***"`); the CA bundle by its fingerprint, so a change is visible without the PEM.
 */
export function auditSnapshot(config: RegistryConfig | null): Record<string, unknown> | null {
  if (!config) return null;
  return {
    insecure: config.insecure,
    mirrorsOnly: config.mirrorsOnly,
    ca: config.ca ? `sha256:${createHash("sha256").update(config.ca).digest("hex")} (${config.ca.length} bytes)` : null,
    mirrors: config.mirrors.map((m) => m.url),
    username: config.username,
    password: config.passwordSealed ? "***" : null,
  };
}

export async function listRegistriesFor(ctx: Ctx): Promise<RegistryView[]> {
  const now = new Date();
  return (await listRegistries(ctx.services.db)).map((r) => registryView(r, now));
}

export async function saveRegistryFor(ctx: Ctx, input: SaveRegistryInput): Promise<RegistryView> {
  let before: RegistryConfig | null = null;
  const saved = await audited<RegistryConfig>(
    ctx,
    {
      action: "registry.save",
      targets: [{ ref: input.domain }],
      details: {
        after: { insecure: input.insecure, mirrorsOnly: input.mirrorsOnly, mirrors: input.mirrors, caBytes: input.ca?.length ?? 0 },
      },
      describe: (after: RegistryConfig) => ({ details: { before: auditSnapshot(before), after: auditSnapshot(after) } }),
    },
    async (tx) => {
      before = await getRegistry(tx, input.domain);
      return saveRegistry(tx, input);
    },
  );
  return registryView(saved);
}

export async function removeRegistryFor(ctx: Ctx, domain: string): Promise<{ removed: boolean }> {
  const spec = { action: "registry.remove", targets: [{ ref: domain }] };
  if (domain === DOCKER_HUB) {
    const err = new TRPCError({ code: "BAD_REQUEST", message: "docker.io cannot be removed (clear its mirrors instead)" });
    await recordFailure(ctx, spec, err);
    throw err;
  }
  let before: RegistryConfig | null = null;
  return audited(ctx, { ...spec, describe: () => ({ details: { before: auditSnapshot(before), after: null } }) }, async (tx) => {
    before = await getRegistry(tx, domain);
    if (!before) throw new TRPCError({ code: "NOT_FOUND", message: `registry ${domain} is not configured` });
    return { removed: await removeRegistry(tx, domain) };
  });
}

export interface LoginResult {
  registry: RegistryView;
  /** False when the registry could not be reached to check the credentials (they are stored anyway). */
  verified: boolean;
  warning: string | null;
}

/**
 * `docker login` for the whole team: the credentials are checked against the registry's
 * `/v2/` first; a refusal stores nothing. When the registry cannot be reached, they are
 * stored unverified and the answer says so. The password is sealed with the server key.
 */
export async function loginRegistryFor(ctx: Ctx, input: { domain: string; username: string; password: string }): Promise<LoginResult> {
  const { domain, username, password } = input;
  const actorName = ctx.actor?.username ?? "anonymous";
  const spec = { action: "registry.login", targets: [{ ref: domain }], details: { after: { username, password: "***" } } };
  const current = await getRegistry(ctx.services.db, domain);
  let warning: string | null = null;
  try {
    warning = await verifyCredentials(ctx, domain, current, { username, password });
  } catch (err) {
    await recordFailure(ctx, spec, err);
    throw err;
  }
  const sealed = ctx.services.secrets.seal(password, credentialsContext(domain));
  let before: RegistryConfig | null = null;
  const saved = await audited<RegistryConfig>(
    ctx,
    {
      ...spec,
      describe: (after: RegistryConfig) => ({
        details: { before: auditSnapshot(before), after: auditSnapshot(after), verified: warning === null },
      }),
    },
    async (tx) => {
      before = await getRegistry(tx, domain);
      return setRegistryCredentials(tx, { domain, username, passwordSealed: sealed, setBy: actorName });
    },
  );
  return { registry: registryView(saved), verified: warning === null, warning };
}

/** Throws when the registry refuses the credentials; returns a warning when it cannot be asked. */
async function verifyCredentials(
  ctx: Ctx,
  domain: string,
  config: RegistryConfig | null,
  credentials: { username: string; password: string },
): Promise<string | null> {
  // The origin as pulls reach it (insecure flag, CA), with the new credentials instead of the stored ones.
  const origin = accessFrom(ctx.services, domain, config ? { ...config, username: null, passwordSealed: null } : null).origin;
  const client = new RegistryClient({
    ...clientTarget(origin.url!, origin.insecure),
    ca: origin.ca,
    credentials,
    retries: 0,
    timeoutMs: 15_000,
  });
  try {
    await client.ping();
    return null;
  } catch (err) {
    if (err instanceof RegistryError && (err.kind === "unauthorized" || err.kind === "denied")) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        // No `cause`: the error middleware would answer with the engine error's message instead.
        message: `${domain} refused the username or password (401 Unauthorized); nothing was stored`,
      });
    }
    if (err instanceof RegistryError && (err.kind === "unavailable" || err.kind === "timeout")) {
      return `could not reach ${domain} to check the credentials (${errorMessage(err)}); stored without checking`;
    }
    throw new TRPCError({ code: "BAD_REQUEST", message: `cannot check the credentials on ${domain}: ${errorMessage(err)}` });
  } finally {
    client.close();
  }
}

export async function logoutRegistryFor(ctx: Ctx, domain: string): Promise<{ removed: boolean }> {
  let before: RegistryConfig | null = null;
  return audited(
    ctx,
    {
      action: "registry.logout",
      targets: [{ ref: domain }],
      describe: () => ({
        details: {
          before: auditSnapshot(before),
          after: before ? auditSnapshot({ ...before, username: null, passwordSealed: null }) : null,
        },
      }),
    },
    async (tx) => {
      before = await getRegistry(tx, domain);
      return { removed: await clearRegistryCredentials(tx, domain) };
    },
  );
}

export interface MirrorTestResult {
  url: string;
  ok: boolean;
  latencyMs: number;
  /** `none`, `basic` or `bearer`: what the mirror asks of anonymous clients. */
  authScheme: string | null;
  error: string | null;
  mirror: MirrorView | null;
}

/**
 * Pings a mirror's `/v2/` as pulls would reach it and records the outcome in its health
 * (latency on success, the error and a cool-down on failure). Audited: it changes what the
 * page shows, and it makes the server connect somewhere.
 */
export async function testMirrorFor(ctx: Ctx, input: { domain: string; url: string }): Promise<MirrorTestResult> {
  const config = await getRegistry(ctx.services.db, input.domain);
  const spec = { action: "registry.mirror.test", targets: [{ ref: input.domain }], details: { url: input.url } };
  if (!config?.mirrors.some((m) => m.url === input.url)) {
    const err = new TRPCError({ code: "NOT_FOUND", message: `${input.url} is not a mirror of ${input.domain}` });
    await recordFailure(ctx, spec, err);
    throw err;
  }
  const endpoint = mirrorEndpoint(input.url, config);
  const client = new RegistryClient({ ...clientTarget(input.url, endpoint.insecure), ca: endpoint.ca, retries: 0, timeoutMs: 10_000 });
  const started = performance.now();
  let result: Omit<MirrorTestResult, "mirror">;
  try {
    const { authScheme } = await client.ping();
    result = { url: input.url, ok: true, latencyMs: Math.round(performance.now() - started), authScheme, error: null };
  } catch (err) {
    result = { url: input.url, ok: false, latencyMs: Math.round(performance.now() - started), authScheme: null, error: errorMessage(err) };
  } finally {
    client.close();
  }
  await recordMirrorResult(ctx.services, input.domain, input.url, {
    ok: result.ok,
    error: result.error === null ? undefined : new Error(result.error),
    latencyMs: result.latencyMs,
    bytes: 0,
    kind: "manifest",
  });
  const outcome = { ...spec.details, ok: result.ok, latencyMs: result.latencyMs, error: result.error };
  await audited(ctx, { ...spec, details: outcome }, () => Promise.resolve());
  const after = await getRegistry(ctx.services.db, input.domain);
  const mirror = after ? (registryView(after).mirrors.find((m) => m.url === input.url) ?? null) : null;
  return { ...result, mirror };
}

/** `https://host:port` → the client's host and whether plain HTTP is allowed. */
function clientTarget(url: string, insecure: boolean | undefined): { host: string; insecure: boolean } {
  const parsed = new URL(url);
  return { host: parsed.host, insecure: insecure ?? parsed.protocol === "http:" };
}
