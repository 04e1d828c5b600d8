import { randomUUID } from "node:crypto";
import { Digest, type IngestResult } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import type { Services } from "../context";
import { requestBody } from "../http/node-bodies";
import { concatenated, ingestStream } from "./blob-ingest";
import { requireScope, scopeDecision, type RegistryCtx } from "./caller";
import { grantedActions } from "./bearer-token";
import { API_VERSION_HEADER, RegistryError } from "./errors";
import { registryRepository, type RegistryRepository } from "./names";
import { parseBlobDigest } from "./read-endpoints";
import { dropAbandonedContent, holdsContent, linkUpload } from "./repository-content";

/** One PATCH's bytes, stored as a blob of its own until the upload is finished. */
interface Chunk {
  digest: string;
  size: number;
  /** This session wrote the blob (it was not in the store before): removed with the session. */
  created: boolean;
}

interface Session {
  id: string;
  repository: string;
  userId: string | null;
  chunks: Chunk[];
  size: number;
}

/** Sessions untouched this long are abandoned: removed, with the chunks only they wrote. */
export const ABANDONED_UPLOAD_MS = 60 * 60 * 1000;
/** New upload sessions look for abandoned ones at most this often (they are an hour old, or a day). */
const CLEANUP_INTERVAL_MS = 60 * 1000;
const lastCleanup = new WeakMap<Services, number>();
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const uploadPath = (name: string, id: string) => `/v2/${name}/blobs/uploads/${id}`;
const blobPath = (name: string, digest: Digest) => `/v2/${name}/blobs/${digest.toString()}`;

function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  return (length !== null && length !== "0") || req.headers.has("transfer-encoding");
}

function sessionHeaders(repo: RegistryRepository, session: Pick<Session, "id" | "size">): Record<string, string> {
  return {
    ...API_VERSION_HEADER,
    location: uploadPath(repo.name, session.id),
    // Inclusive, as the spec writes it; "0-0" for an empty session, as distribution answers.
    range: `0-${Math.max(session.size - 1, 0)}`,
    "docker-upload-uuid": session.id,
    "content-length": "0",
  };
}

/** An upload's commit, and the repository's link to the blob with it, under the blob lock (see ingestStream). */
function commitAndLink(ctx: RegistryCtx, repo: RegistryRepository, digest: Digest) {
  return (commit: () => Promise<IngestResult>) =>
    ctx.services.blobLock.shared(async () => {
      const committed = await commit();
      await linkUpload(ctx.services.db, repo.repository, digest);
      return committed;
    });
}

/** The blob is in the store and the repository holds it (linkUpload): where to find it. */
function created(repo: RegistryRepository, digest: Digest): Response {
  return new Response(null, {
    status: 201,
    headers: {
      ...API_VERSION_HEADER,
      location: blobPath(repo.name, digest),
      "docker-content-digest": digest.toString(),
      "content-length": "0",
    },
  });
}

async function loadSession(ctx: RegistryCtx, repo: RegistryRepository, id: string): Promise<Session> {
  const row = UUID_RE.test(id) ? await ctx.services.db.registryUpload.findUnique({ where: { id } }) : null;
  // Another person's session is as unknown as a missing one.
  if (!row || row.repository !== repo.name || (row.userId ?? null) !== (ctx.actor?.userId ?? null)) {
    throw new RegistryError("BLOB_UPLOAD_UNKNOWN", `blob upload unknown: ${id}`, { uuid: id });
  }
  return { id: row.id, repository: row.repository, userId: row.userId, chunks: row.chunks as unknown as Chunk[], size: Number(row.size) };
}

/** The request body as one more chunk of the session; 416 when it does not start where the session ends. */
async function appendChunk(ctx: RegistryCtx, req: Request, session: Session): Promise<Session> {
  const contentRange = req.headers.get("content-range");
  if (contentRange) {
    const m = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(contentRange.trim());
    if (!m || Number(m[1]) !== session.size) {
      throw new RegistryError(
        "RANGE_INVALID",
        `chunk ${contentRange} does not continue the upload, which has ${session.size} bytes`,
        { size: session.size },
        {
          range: `0-${Math.max(session.size - 1, 0)}`,
          location: uploadPath(session.repository, session.id),
          "docker-upload-uuid": session.id,
        },
      );
    }
  }
  const body = hasBody(req) ? requestBody(req) : null;
  if (!body) return session;
  let chunk: Chunk | undefined;
  let extended = false;
  // The session's chunks are blobs collection keeps (isBlobReferenced): recorded with the commit.
  await ingestStream(ctx.services.blobs, body, {}, (commit) =>
    ctx.services.blobLock.shared(async () => {
      const committed = await commit();
      if (committed.size === 0) return committed;
      chunk = { digest: committed.digest.toString(), size: committed.size, created: committed.created };
      // Only the writer that saw the session at this size may extend it: a concurrent chunk loses with 416.
      extended =
        (await ctx.services.db.$executeRaw`
          UPDATE registry_uploads SET chunks = chunks || ${JSON.stringify([chunk])}::jsonb, size = size + ${chunk.size}, updated_at = now()
          WHERE id = ${session.id}::uuid AND size = ${session.size}`) === 1;
      return committed;
    }),
  );
  if (!chunk) return session;
  if (!extended) {
    await removeOwnedChunks(ctx.services, [chunk]);
    throw new RegistryError("RANGE_INVALID", "another chunk was written to this upload at the same time", { uuid: session.id });
  }
  return { ...session, chunks: [...session.chunks, chunk], size: session.size + chunk.size };
}

/** Chunk blobs that only an upload wrote and nothing uses are removed. */
async function removeOwnedChunks(services: Services, chunks: Chunk[], keep?: Digest): Promise<void> {
  const meta = new PrismaMetadataStore(services.db);
  for (const chunk of chunks) {
    const digest = Digest.parse(chunk.digest);
    if (!chunk.created || keep?.equals(digest) || (await meta.isBlobReferenced(digest))) continue;
    await services.blobs.delete(digest);
  }
}

/**
 * Removes sessions idle for longer than `olderThanMs`, with their chunks, and uploaded blobs whose
 * manifest never came (dropAbandonedContent). Returns how many sessions were removed.
 */
export async function cleanAbandonedUploads(services: Services, olderThanMs = ABANDONED_UPLOAD_MS): Promise<number> {
  // One statement on the database's clock: replicas cleaning at once each remove a session once.
  const rows = await services.db.$queryRaw<{ chunks: Chunk[] }[]>`
    DELETE FROM registry_uploads WHERE updated_at <= now() - ${olderThanMs} * interval '1 millisecond' RETURNING chunks`;
  for (const row of rows) await removeOwnedChunks(services, row.chunks);
  await dropAbandonedContent(services);
  return rows.length;
}

/** `cleanAbandonedUploads` in the background, once a minute at most: not two queries on every upload's start. */
function cleanUpNowAndThen(services: Services): void {
  const now = Date.now();
  if (now - (lastCleanup.get(services) ?? 0) < CLEANUP_INTERVAL_MS) return;
  lastCleanup.set(services, now);
  void cleanAbandonedUploads(services).catch((err: unknown) =>
    console.error(`berth: cleaning abandoned uploads: ${(err as Error).message}`),
  );
}

/**
 * Joins the chunks into the blob `digest` (verified), which the repository then holds; the chunks
 * only this session wrote are removed.
 */
async function finish(ctx: RegistryCtx, repo: RegistryRepository, session: Session, digest: Digest): Promise<void> {
  const { blobs, db } = ctx.services;
  const digests = session.chunks.map((c) => Digest.parse(c.digest));
  try {
    // One chunk of the right bytes is the blob: the session keeps it from collection until it is linked.
    if (digests.length === 1 && digests[0]!.equals(digest)) return await linkUpload(db, repo.repository, digest);
    // One chunk holding other bytes: no need to copy it to learn that.
    if (digests.length === 1) {
      throw new RegistryError("DIGEST_INVALID", `the uploaded content has digest ${digests[0]!.toString()}, not ${digest.toString()}`, {
        expected: digest.toString(),
        actual: digests[0]!.toString(),
      });
    }
    await ingestStream(blobs, concatenated(blobs, digests), { digest, size: session.size }, commitAndLink(ctx, repo, digest));
  } finally {
    await ctx.services.db.registryUpload.deleteMany({ where: { id: session.id } });
    await removeOwnedChunks(ctx.services, session.chunks, digest);
  }
}

/** Cross-repository mount: `from` holds the blob and the caller may pull it from there with this token. */
async function tryMount(ctx: RegistryCtx, mount: string, from: string | null): Promise<Digest | undefined> {
  const digest = Digest.tryParse(mount);
  if (!digest || !from || !ctx.claims) return undefined;
  let source: RegistryRepository;
  try {
    source = registryRepository(from);
  } catch {
    return undefined;
  }
  if (!grantedActions(ctx.claims, source.name).has("pull") || !scopeDecision(ctx.actor, "pull", source.namespace).allowed) return undefined;
  const held = (await ctx.services.blobs.has(digest)) && (await holdsContent(ctx.services.db, source.repository, digest));
  return held ? digest : undefined;
}

/** POST `/v2/<name>/blobs/uploads/`: monolithic (`digest=`), mount (`mount=&from=`), or a new session. */
export async function startUpload(req: Request, ctx: RegistryCtx, name: string): Promise<Response> {
  const repo = registryRepository(name);
  await requireScope(ctx, repo, "push", "image.push");
  const url = new URL(req.url);
  const mount = url.searchParams.get("mount");
  if (mount) {
    const mounted = await ctx.services.blobLock.shared(async () => {
      const digest = await tryMount(ctx, mount, url.searchParams.get("from"));
      if (digest) await linkUpload(ctx.services.db, repo.repository, digest);
      return digest;
    });
    if (mounted) return created(repo, mounted);
  }
  const digestText = url.searchParams.get("digest");
  if (digestText !== null) {
    const digest = parseBlobDigest(digestText);
    const body = hasBody(req) ? requestBody(req) : null;
    if (!body) throw new RegistryError("BLOB_UPLOAD_INVALID", "a monolithic upload (?digest=) needs the blob as the request body");
    await ingestStream(ctx.services.blobs, body, { digest }, commitAndLink(ctx, repo, digest));
    return created(repo, digest);
  }
  cleanUpNowAndThen(ctx.services);
  const id = randomUUID();
  await ctx.services.db.registryUpload.create({ data: { id, repository: repo.name, userId: ctx.actor?.userId ?? null } });
  return new Response(null, { status: 202, headers: sessionHeaders(repo, { id, size: 0 }) });
}

/** PATCH, PUT, GET and DELETE of `/v2/<name>/blobs/uploads/<uuid>`. */
export async function continueUpload(req: Request, ctx: RegistryCtx, name: string, id: string): Promise<Response> {
  const repo = registryRepository(name);
  await requireScope(ctx, repo, "push", "image.push");
  let session = await loadSession(ctx, repo, id);
  switch (req.method) {
    case "GET":
      return new Response(null, { status: 204, headers: sessionHeaders(repo, session) });
    case "DELETE":
      await ctx.services.db.registryUpload.deleteMany({ where: { id: session.id } });
      await removeOwnedChunks(ctx.services, session.chunks);
      return new Response(null, { status: 204, headers: { ...API_VERSION_HEADER } });
    case "PATCH":
      session = await appendChunk(ctx, req, session);
      return new Response(null, { status: 202, headers: sessionHeaders(repo, session) });
    case "PUT": {
      const digestText = new URL(req.url).searchParams.get("digest");
      if (!digestText) throw new RegistryError("DIGEST_INVALID", "finishing an upload needs ?digest=<digest of the whole blob>");
      const digest = parseBlobDigest(digestText);
      session = await appendChunk(ctx, req, session);
      await finish(ctx, repo, session, digest);
      return created(repo, digest);
    }
    default:
      throw new RegistryError("UNSUPPORTED", `${req.method} is not supported on an upload`);
  }
}
