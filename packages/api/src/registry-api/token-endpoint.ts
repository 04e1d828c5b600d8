import { TRPCError } from "@trpc/server";
import { actorFromCredentials, actorOf, TOKEN_PREFIX, type Actor } from "../auth/actor";
import type { Visibility } from "../auth/permissions";
import { checkPassword } from "../services/auth";
import { signToken, TOKEN_LIFETIME_SECONDS, type TokenClaims } from "./bearer-token";
import { scopeDecision, type RegistryCtx, type ScopeAction } from "./caller";
import { RegistryError, API_VERSION_HEADER } from "./errors";
import { scopeRepository } from "./names";

const SCOPE_ACTIONS = new Set<string>(["pull", "push", "delete", "*"]);

function basicCredentials(req: Request): { username: string; password: string } | undefined {
  const encoded = req.headers.get("authorization")?.match(/^Basic\s+(\S+)$/i)?.[1];
  if (!encoded) return undefined;
  const text = Buffer.from(encoded, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) throw new RegistryError("UNAUTHORIZED", "malformed Basic credentials: expected username:password");
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** `docker login` sends a password, or a Berth API token as the password (personal or robot). */
async function signIn(ctx: RegistryCtx, creds: { username: string; password: string }): Promise<Actor> {
  if (creds.password.startsWith(TOKEN_PREFIX)) {
    const auth = await actorFromCredentials(ctx.services.db, { bearer: creds.password });
    const owner = auth.actor && (creds.username === auth.actor.username || creds.username === auth.actor.robot?.name);
    if (!auth.actor || !owner) {
      throw new RegistryError("UNAUTHORIZED", `incorrect username or token${auth.failure ? ` (${auth.failure})` : ""}`);
    }
    return auth.actor;
  }
  try {
    return actorOf(await checkPassword(ctx, creds.username, creds.password, "registry.login"));
  } catch (err) {
    if (err instanceof TRPCError) throw new RegistryError("UNAUTHORIZED", err.message);
    throw err;
  }
}

/** `repository:team-a/app:pull,push` → its parts; anything else is ignored, as distribution does. */
function parseScope(scope: string): { type: "repository" | "registry"; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last === first) return undefined;
  const type = scope.slice(0, first);
  if (type !== "repository" && type !== "registry") return undefined;
  return {
    type,
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(",")
      .filter(Boolean),
  };
}

/**
 * What of each requested scope the actor may do now: the token grants only that. Anonymous
 * callers (no actor) get `pull` in public namespaces and nothing else.
 */
function grant(actor: Actor | null, requested: string[], visibility: Visibility): { access: TokenClaims["access"]; refused: boolean } {
  const access: TokenClaims["access"] = [];
  let refused = false;
  for (const scope of requested.flatMap((s) => s.split(" ")).filter(Boolean)) {
    const parsed = parseScope(scope);
    if (!parsed) continue;
    if (parsed.type === "registry") {
      // The catalog lists only what each caller may read (anonymous callers: public namespaces); anyone may ask.
      if (parsed.name === "catalog") access.push({ type: "registry", name: "catalog", actions: ["*"] });
      continue;
    }
    let namespace: string | null;
    try {
      namespace = scopeRepository(parsed.name).namespace;
    } catch {
      continue;
    }
    const wanted = parsed.actions.filter((a) => SCOPE_ACTIONS.has(a)).flatMap((a) => (a === "*" ? ["pull", "push", "delete"] : [a]));
    const distinct = [...new Set(wanted)];
    const actions = distinct.filter((a) => scopeDecision(actor, a as ScopeAction, namespace, visibility).allowed);
    if (actions.length < distinct.length) refused = true;
    access.push({ type: "repository", name: parsed.name, actions });
  }
  return { access, refused };
}

/** `grant`, reading the public namespaces only when the caller's own permissions refused something: they can only widen it. */
async function grantNow(ctx: RegistryCtx, actor: Actor | null, requested: string[]): Promise<TokenClaims["access"]> {
  const own = grant(actor, requested, {});
  return own.refused ? grant(actor, requested, await ctx.visibility()).access : own.access;
}

/**
 * `GET /v2/token`: the token server of docker's Bearer flow, served by Berth itself. Basic
 * credentials (or none: anonymous) → a short-lived token granting what was asked for and is allowed.
 */
export async function handleToken(req: Request, ctx: RegistryCtx): Promise<Response> {
  const url = new URL(req.url);
  const service = url.searchParams.get("service");
  if (service && service !== "berth")
    throw new RegistryError("DENIED", `this token server issues tokens for service "berth", not "${service}"`);
  const creds = basicCredentials(req);
  const actor = creds ? await signIn(ctx, creds) : null;
  const now = Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    sub: actor?.userId ?? null,
    tid: actor?.tokenId ?? null,
    iat: now,
    exp: now + TOKEN_LIFETIME_SECONDS,
    access: await grantNow(ctx, actor, url.searchParams.getAll("scope")),
  };
  const token = signToken(ctx.services.secrets, claims);
  const body = { token, access_token: token, expires_in: TOKEN_LIFETIME_SECONDS, issued_at: new Date(now * 1000).toISOString() };
  return new Response(JSON.stringify(body), {
    headers: { "content-type": "application/json", "cache-control": "no-store", ...API_VERSION_HEADER },
  });
}
