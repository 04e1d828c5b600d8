import { actorForIssued, type Actor } from "../auth/actor";
import { explain, type Action, type Visibility } from "../auth/permissions";
import { recordFailure } from "../audit/record";
import type { RequestInfo, Services } from "../context";
import { publicNamespaceSet } from "../services/public-namespaces";
import { grantedActions, verifyToken, type TokenClaims } from "./bearer-token";
import { RegistryError } from "./errors";
import type { RegistryRepository } from "./names";

/**
 * A registry request: who (from its bearer token), from where (interface "registry" in the audit),
 * and which namespaces anyone may pull from (`visibility()`, for permissions.ts).
 */
export interface RegistryCtx {
  services: Services;
  request: RequestInfo;
  actor: Actor | null;
  claims: TokenClaims | null;
  authFailure?: string;
  /** `<scheme>://<host>` the client reached us at, for the token realm and Location headers. */
  base: string;
  /**
   * The public namespaces, read once per request and only when asked: they can only widen what
   * someone may do, so a request its caller's own permissions allow never reads them.
   */
  visibility(): Promise<Visibility>;
}

export type ScopeAction = "pull" | "push" | "delete";

/** `<scheme>://<host>` as the client reached Berth (behind a proxy: as the proxy says). */
export function requestBase(req: Request): string {
  const url = new URL(req.url);
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  const host = req.headers.get("x-forwarded-host")?.split(",")[0]?.trim() ?? req.headers.get("host") ?? url.host;
  return `${proto === "https" || proto === "http" ? proto : url.protocol.slice(0, -1)}://${host}`;
}

export async function registryContext(req: Request, services: Services, remoteAddress: string | null): Promise<RegistryCtx> {
  const forwarded = req.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  let visibility: Promise<Visibility> | undefined;
  const ctx: RegistryCtx = {
    services,
    request: { ip: forwarded || remoteAddress, userAgent: req.headers.get("user-agent"), interface: "registry" },
    actor: null,
    claims: null,
    base: requestBase(req),
    visibility: () => (visibility ??= publicNamespaceSet(services.db).then((publicNamespaces) => ({ publicNamespaces }))),
  };
  const bearer = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!bearer) {
    ctx.authFailure = "not signed in";
    return ctx;
  }
  const verified = verifyToken(services.secrets, bearer);
  if ("failure" in verified) {
    ctx.authFailure = verified.failure;
    return ctx;
  }
  ctx.claims = verified.claims;
  if (verified.claims.sub) {
    const auth = await actorForIssued(services.db, { userId: verified.claims.sub, tokenId: verified.claims.tid });
    ctx.actor = auth.actor;
    ctx.authFailure = auth.failure;
  }
  return ctx;
}

/** The Berth permission a scope action needs (see permissions.ts): deleting is removing. */
export function permissionsFor(action: ScopeAction): Action[] {
  // Downloading is reading (a viewer may save an image); a robot scoped to `pull` may too.
  if (action === "pull") return ["read", "pull"];
  return action === "push" ? ["push"] : ["remove"];
}

/** Whether `actor` may do a scope action in a namespace now (public ones: see `visibility`), and if not, why. */
export function scopeDecision(
  actor: Actor | null,
  action: ScopeAction,
  namespace: string | null,
  visibility: Visibility = {},
): { allowed: boolean; reason: string } {
  const decisions = permissionsFor(action).map((permission) => explain(actor, permission, namespace, visibility));
  if (decisions.some((d) => d.allowed)) return { allowed: true, reason: "" };
  // The first permission is the one a person needs; its reason names the role.
  return { allowed: false, reason: decisions[0]?.reason ?? "not allowed" };
}

export function challenge(ctx: RegistryCtx, scope?: string, error?: string): Record<string, string> {
  const parts = [`realm="${ctx.base}/v2/token"`, `service="berth"`];
  if (scope) parts.push(`scope="${scope}"`);
  if (error) parts.push(`error="${error}"`);
  return { "www-authenticate": `Bearer ${parts.join(",")}` };
}

/** Whether the token was issued for the repository (with whatever it was granted there). */
function askedFor(claims: TokenClaims | null, name: string): boolean {
  return claims?.access.some((a) => a.type === "repository" && a.name === name) ?? false;
}

/**
 * The caller must hold a token granting `action` on the repository, and still be allowed to do
 * it (anonymous callers: pulling from a public namespace only): 401 with a challenge naming the
 * scope to ask for, or 403 DENIED for someone signed in who may not. Refusals are audited as
 * `denied`: changes under `auditAction`; reads as `image.pull` once the client holds a token
 * issued for the repository (it asked and was refused; the challenges before are the protocol).
 */
export async function requireScope(
  ctx: RegistryCtx,
  repo: RegistryRepository,
  action: ScopeAction,
  auditAction?: string,
): Promise<Actor | null> {
  const scope = `repository:${repo.name}:${action === "pull" ? "pull" : `pull,${action}`}`;
  const errorDetail = [{ Type: "repository", Name: repo.name, Action: action }];
  const granted = ctx.claims ? grantedActions(ctx.claims, repo.name).has(action) : false;
  let decision = scopeDecision(ctx.actor, action, repo.namespace);
  if (!decision.allowed) decision = scopeDecision(ctx.actor, action, repo.namespace, await ctx.visibility());
  // A token of a person since disabled (or an API token since revoked) stands for nobody, not for anonymous.
  const stale = Boolean(ctx.claims?.sub) && !ctx.actor;
  if (decision.allowed && !stale) {
    if (granted) return ctx.actor;
    // Allowed, but this token was not issued for it: the client asks for a new one.
    if (ctx.claims) {
      throw new RegistryError(
        "UNAUTHORIZED",
        `the token does not grant ${action} on ${repo.name}`,
        errorDetail,
        challenge(ctx, scope, "insufficient_scope"),
      );
    }
  }
  const audit = auditAction ?? (action === "pull" && askedFor(ctx.claims, repo.name) ? "image.pull" : undefined);
  if (!ctx.actor) {
    const reason = ctx.authFailure ?? "not signed in";
    if (audit && ctx.claims) {
      const details = { permission: action, namespace: repo.namespace, reason };
      await recordFailure(ctx, { action: audit, targets: [{ ref: repo.name }], details }, new Error(reason), "denied");
    }
    throw new RegistryError(
      "UNAUTHORIZED",
      `authentication required (${reason})`,
      errorDetail,
      challenge(ctx, scope, ctx.claims ? "invalid_token" : undefined),
    );
  }
  if (audit) {
    await recordFailure(
      ctx,
      { action: audit, targets: [{ ref: repo.name }], details: { permission: action, namespace: repo.namespace } },
      new Error(decision.reason),
      "denied",
    );
  }
  throw new RegistryError("DENIED", decision.reason, errorDetail);
}
