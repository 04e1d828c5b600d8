import { familiarRepository } from "@berth/engine";
import { explain } from "../auth/permissions";
import { challenge, requireScope, type RegistryCtx } from "./caller";
import { API_VERSION_HEADER, RegistryError } from "./errors";
import { registryRepository } from "./names";

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `n` and `last` of the spec's pagination: entries after `last` in lexical order, at most `n`. */
function page(url: URL, all: string[]): { items: string[]; next?: string } {
  const nText = url.searchParams.get("n");
  const last = url.searchParams.get("last");
  let n: number | undefined;
  if (nText !== null) {
    n = Number(nText);
    if (!/^\d+$/.test(nText) || !Number.isSafeInteger(n)) {
      throw new RegistryError("PAGINATION_NUMBER_INVALID", `n must be a non-negative integer, got ${JSON.stringify(nText)}`, { n: nText });
    }
  }
  const after = last === null ? all : all.filter((item) => byCodeUnit(item, last) > 0);
  if (n === undefined || after.length <= n) return { items: after };
  const items = after.slice(0, n);
  return { items, next: items.length ? items[items.length - 1] : undefined };
}

function link(path: string, n: string | null, last: string): Record<string, string> {
  const q = new URLSearchParams({ ...(n !== null ? { n } : {}), last });
  return { link: `<${path}?${q.toString()}>; rel="next"` };
}

function jsonResponse(body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json", ...API_VERSION_HEADER, ...headers } });
}

/** GET `/v2/<name>/tags/list`. */
export async function listTags(req: Request, ctx: RegistryCtx, name: string): Promise<Response> {
  const repo = registryRepository(name);
  await requireScope(ctx, repo, "pull");
  // Tags of images and of artifacts (a name is one or the other).
  const where = { where: { repository: repo.repository }, select: { tag: true } };
  const rows = [...(await ctx.services.db.tag.findMany(where)), ...(await ctx.services.db.artifactTag.findMany(where))];
  if (rows.length === 0) throw new RegistryError("NAME_UNKNOWN", `repository name not known to registry: ${name}`, { name });
  const url = new URL(req.url);
  const { items, next } = page(url, rows.map((r) => r.tag).sort(byCodeUnit));
  const path = `/v2/${name}/tags/list`;
  return jsonResponse({ name, tags: items }, next ? link(path, url.searchParams.get("n"), next) : {});
}

/**
 * GET `/v2/_catalog`: the repositories the caller may read, by the names `/v2/` knows them by.
 * An anonymous token sees the repositories of public namespaces.
 */
export async function listCatalog(req: Request, ctx: RegistryCtx): Promise<Response> {
  const actor = ctx.actor;
  // No token, or one of a person since disabled (or a revoked API token): authenticate first.
  if (!ctx.claims || (ctx.claims.sub && !actor)) {
    throw new RegistryError(
      "UNAUTHORIZED",
      `authentication required (${ctx.authFailure ?? "not signed in"})`,
      null,
      challenge(ctx, "registry:catalog:*"),
    );
  }
  const rows = [
    ...(await ctx.services.db.tag.findMany({ distinct: ["repository"], select: { repository: true } })),
    ...(await ctx.services.db.artifactTag.findMany({ distinct: ["repository"], select: { repository: true } })),
  ];
  const names = new Set<string>();
  const visibility = await ctx.visibility();
  for (const { repository } of rows) {
    let repo;
    try {
      repo = registryRepository(familiarRepository(repository));
    } catch {
      // Names with a port (`localhost:5000/app`) cannot be spelled in a `/v2/` path.
      continue;
    }
    if (repo.repository !== repository) continue;
    if (explain(actor, "read", repo.namespace, visibility).allowed || explain(actor, "pull", repo.namespace, visibility).allowed)
      names.add(repo.name);
  }
  const url = new URL(req.url);
  const { items, next } = page(url, [...names].sort(byCodeUnit));
  return jsonResponse({ repositories: items }, next ? link("/v2/_catalog", url.searchParams.get("n"), next) : {});
}
