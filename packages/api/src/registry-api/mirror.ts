import { Digest, EngineError, isIndexMediaType, MediaType, RegistryClient, type Endpoint } from "@berth/engine";
import type { Transaction } from "@berth/db";
import { explain } from "../auth/permissions";
import { recordFailure } from "../audit/record";
import { errorMessage } from "../errors";
import { runPull, type PulledRecord } from "../services/pull";
import { mirrorsOnlyNote, registryAccess } from "../services/registry-access";
import type { RegistryCtx } from "./caller";
import { RegistryError } from "./errors";
import { findManifest, type ServedManifest } from "./manifest-lookup";
import type { RegistryRepository } from "./names";

/**
 * The pull-through mirror. A docker daemon with Berth in `registry-mirrors` asks for Docker Hub
 * names (`library/redis`), which Berth already reads as `docker.io/library/redis`, the repository
 * `berth pull redis` writes. So a mirror fill is that pull (runPull, through the team's docker.io
 * settings), and the cached image is the image `berth pull redis:7` would have stored.
 * Docker sends only Docker Hub pulls to a mirror; containerd sends any registry's, naming it in
 * `?ns=` (read-endpoints.ts), and podman's mirror location can name it in the path
 * (`berth.example/ghcr.io`): a registry set up on the Registries page is mirrored the same way.
 */
const HUB = "docker.io";
const DEFAULT_TTL_SECONDS = 300;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

type CacheRow = NonNullable<Awaited<ReturnType<RegistryCtx["services"]["db"]["mirrorCache"]["findUnique"]>>>;

const isDigest = (reference: string) => reference.includes(":");

/** The registry a repository's images come from (`docker.io/library/redis` → `docker.io`). */
const domainOf = (repo: RegistryRepository) => repo.repository.slice(0, repo.repository.indexOf("/"));

function upstreamPath(repo: RegistryRepository): string {
  return repo.repository.slice(domainOf(repo).length + 1);
}

/** Docker Hub always; another registry once the team has set it up (its settings say how to reach it). */
async function isMirrored(ctx: RegistryCtx, domain: string): Promise<boolean> {
  return domain === HUB || (await ctx.services.db.registry.findUnique({ where: { domain }, select: { domain: true } })) !== null;
}

function pullRef(repo: RegistryRepository, reference: string): string {
  return `${repo.repository}${isDigest(reference) ? "@" : ":"}${reference}`;
}

/** Concurrent requests for one uncached reference share one fill. */
const fills = new Map<string, Promise<void>>();

/** GET/HEAD of a manifest: from Berth when it holds it, else (a mirrored registry's) filled from upstream. */
export async function findOrMirrorManifest(ctx: RegistryCtx, repo: RegistryRepository, reference: string): Promise<ServedManifest> {
  if (!(await isMirrored(ctx, domainOf(repo)))) return findManifest(ctx.services, repo, reference);
  const key = { repository: repo.repository, reference };
  let row = await ctx.services.db.mirrorCache.findUnique({ where: { repository_reference: key } });
  let cached = row && (await servedFromCache(ctx, repo, reference, row));
  // Only a tag still as the mirror left it is revalidated: one moved here is no longer upstream's.
  if (row && cached && !isDigest(reference) && isStale(ctx, row)) {
    await revalidate(ctx, repo, reference, row);
    row = await ctx.services.db.mirrorCache.findUnique({ where: { repository_reference: key } });
    cached = row && (await servedFromCache(ctx, repo, reference, row));
  }
  if (cached) return cached;
  try {
    return await findManifest(ctx.services, repo, reference);
  } catch (err) {
    if (!(err instanceof RegistryError && err.code === "MANIFEST_UNKNOWN")) throw err;
    // A repository people push to is theirs: a missing tag there is missing, not upstream's.
    if (await heldLocally(ctx, repo)) throw err;
  }
  await fill(ctx, repo, reference);
  row = await ctx.services.db.mirrorCache.findUnique({ where: { repository_reference: key } });
  return (row && (await servedFromCache(ctx, repo, reference, row))) ?? findManifest(ctx.services, repo, reference);
}

function isStale(ctx: RegistryCtx, row: CacheRow): boolean {
  const ttl = ctx.services.mirrorTtlSeconds ?? DEFAULT_TTL_SECONDS;
  return Date.now() - row.checkedAt.getTime() >= ttl * 1000;
}

/** Whether the repository has tags the mirror did not put there (pushed, tagged or loaded here). */
async function heldLocally(ctx: RegistryCtx, repo: RegistryRepository): Promise<boolean> {
  const [tags, mirrored] = await Promise.all([
    ctx.services.db.tag.findMany({ where: { repository: repo.repository }, select: { tag: true } }),
    ctx.services.db.mirrorCache.findMany({ where: { repository: repo.repository }, select: { reference: true } }),
  ]);
  const fromMirror = new Set(mirrored.map((m) => m.reference));
  return tags.some((t) => !fromMirror.has(t.tag));
}

/**
 * The cached manifest as upstream served it, while the row still describes what Berth holds
 * (the tag not moved or removed here since). A multi-platform image is served as its index,
 * kept by the pull: daemons check the digest they asked for, and ask for their platform's
 * manifest next (a digest, filled on its own when it is not the platform Berth pulled).
 */
async function servedFromCache(
  ctx: RegistryCtx,
  repo: RegistryRepository,
  reference: string,
  row: CacheRow,
): Promise<ServedManifest | undefined> {
  const { db, blobs } = ctx.services;
  if (isDigest(reference)) {
    if (!(await db.image.findUnique({ where: { id: row.imageId }, select: { id: true } }))) return undefined;
  } else {
    const tag = await db.tag.findUnique({ where: { repository_tag: { repository: repo.repository, tag: reference } } });
    if (tag?.imageId !== row.imageId) return undefined;
  }
  const digest = Digest.parse(row.upstreamDigest);
  if (!(await blobs.has(digest))) return findManifest(ctx.services, repo, reference);
  const bytes = await blobs.read(digest, MAX_MANIFEST_BYTES);
  const parsed = JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown; manifests?: unknown };
  const mediaType = typeof parsed.mediaType === "string" ? parsed.mediaType : MediaType.ociIndex;
  // A single-platform image is served as stored with the image (the same bytes upstream sent).
  if (!Array.isArray(parsed.manifests) || !isIndexMediaType(mediaType)) return findManifest(ctx.services, repo, reference);
  return { bytes, digest, mediaType, imageId: Digest.parse(row.imageId) };
}

/** Pulls the reference as the caller, audited as a mirror fill, and records the cache row in the same transaction. */
async function fill(ctx: RegistryCtx, repo: RegistryRepository, reference: string): Promise<void> {
  const decision = explain(ctx.actor, "pull", repo.namespace);
  if (!decision.allowed) {
    const targets = [{ ref: pullRef(repo, reference) }];
    await recordFailure(
      ctx,
      { action: "image.pull", targets, details: mirrorDetails(repo, reference) },
      new Error(decision.reason),
      "denied",
    );
    throw new RegistryError("DENIED", `${decision.reason} (${repo.name}:${reference} is not cached; filling it is a pull)`);
  }
  const key = `${repo.repository}\n${reference}`;
  let flight = fills.get(key);
  if (!flight) {
    flight = pullInto(ctx, repo, reference).finally(() => fills.delete(key));
    fills.set(key, flight);
  }
  await flight;
}

function mirrorDetails(repo: RegistryRepository, reference: string): Record<string, unknown> {
  return { mirror: { cachedFrom: domainOf(repo), reference } };
}

async function pullInto(ctx: RegistryCtx, repo: RegistryRepository, reference: string): Promise<void> {
  try {
    await runPull(
      ctx,
      { ref: pullRef(repo, reference), interface: "registry", ip: ctx.request.ip, userAgent: ctx.request.userAgent },
      { auditDetails: mirrorDetails(repo, reference), alsoRecord: (tx, pulled) => recordFill(tx, ctx, repo.repository, reference, pulled) },
    );
  } catch (err) {
    const kind = (err as { kind?: unknown }).kind;
    if (kind === "rate-limited") throw new RegistryError("TOOMANYREQUESTS", `${domainOf(repo)} refused: ${errorMessage(err)}`);
    // Not upstream, or upstream unreachable (every endpoint's answer is in the message): for a
    // daemon both mean "not from this mirror", and it goes to Docker Hub itself.
    if (err instanceof EngineError) {
      throw new RegistryError(
        "MANIFEST_UNKNOWN",
        `manifest unknown: ${repo.name}:${reference} (from ${domainOf(repo)}: ${errorMessage(err)})`,
        {
          name: repo.name,
          reference,
        },
      );
    }
    throw err;
  }
}

async function recordFill(tx: Transaction, ctx: RegistryCtx, repository: string, reference: string, pulled: PulledRecord) {
  const image = pulled.images[0];
  if (!image) return;
  const now = new Date();
  const fields = {
    imageId: image.id,
    upstreamDigest: pulled.indexDigest ?? pulled.manifestDigest,
    upstream: pulled.endpoint,
    pulledAt: now,
    checkedAt: now,
    pulledById: ctx.actor?.userId ?? null,
    pulledByName: ctx.actor?.username ?? "anonymous",
  };
  await tx.mirrorCache.upsert({
    where: { repository_reference: { repository, reference } },
    create: { repository, reference, ...fields },
    update: fields,
  });
}

/**
 * A cached tag past its TTL: upstream is asked for the tag's digest (HEAD, through the mirror
 * settings); a moved tag is pulled again. Upstream being unreachable serves the stale copy: the
 * failure is audited once per TTL (the row counts as checked), never answered to the daemon.
 */
async function revalidate(ctx: RegistryCtx, repo: RegistryRepository, reference: string, row: CacheRow): Promise<void> {
  const key = { repository_reference: { repository: row.repository, reference: row.reference } };
  let upstreamDigest: string;
  try {
    upstreamDigest = await headUpstream(ctx, repo, reference);
  } catch (err) {
    await ctx.services.db.mirrorCache.update({ where: key, data: { checkedAt: new Date() } });
    const details = { ...mirrorDetails(repo, reference), revalidation: "failed", servedStale: row.upstreamDigest };
    await recordFailure(ctx, { action: "image.pull", targets: [{ ref: pullRef(repo, reference) }], details }, err);
    return;
  }
  if (upstreamDigest === row.upstreamDigest) {
    await ctx.services.db.mirrorCache.update({ where: key, data: { checkedAt: new Date() } });
    return;
  }
  try {
    await fill(ctx, repo, reference);
  } catch {
    // runPull audited the failure (or the caller may not pull): the copy Berth holds is served.
    await ctx.services.db.mirrorCache.update({ where: key, data: { checkedAt: new Date() } });
  }
}

/** The tag's digest on the first of the registry's endpoints (mirrors, then the origin unless mirrors-only) that answers. */
async function headUpstream(ctx: RegistryCtx, repo: RegistryRepository, reference: string): Promise<string> {
  const domain = domainOf(repo);
  const access = await registryAccess(ctx.services, domain);
  const failures: string[] = [];
  for (const endpoint of access.pullEndpoints) {
    const client = clientFor(endpoint);
    const started = performance.now();
    try {
      const head = await client.headManifest(upstreamPath(repo), reference);
      access.report(endpoint, { ok: true, latencyMs: performance.now() - started, bytes: 0, kind: "manifest" });
      return head.digest.toString();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      access.report(endpoint, { ok: false, error, latencyMs: performance.now() - started, bytes: 0, kind: "manifest" });
      failures.push(`${endpoint.url ?? endpoint.host ?? "?"}: ${error.message}`);
    } finally {
      client.close();
    }
  }
  const note = access.mirrorsOnly ? `; ${mirrorsOnlyNote(domain)}` : "";
  throw new Error(`cannot revalidate ${repo.name}:${reference} against ${domain}: ${failures.join("; ")}${note}`);
}

function clientFor(endpoint: Endpoint): RegistryClient {
  const url = new URL(endpoint.url ?? `${endpoint.insecure ? "http" : "https"}://${endpoint.host ?? ""}`);
  return new RegistryClient({
    host: url.host,
    insecure: endpoint.insecure ?? url.protocol === "http:",
    ...(endpoint.ca ? { ca: endpoint.ca } : {}),
    ...(endpoint.credentials ? { credentials: endpoint.credentials } : {}),
    ...(endpoint.timeoutMs ? { timeoutMs: endpoint.timeoutMs } : {}),
    ...(endpoint.retries !== undefined ? { retries: endpoint.retries } : {}),
  });
}
