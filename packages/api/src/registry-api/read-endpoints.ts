import { Digest, FsBlobStore } from "@berth/engine";
import { fileResponse } from "../http/file-response";
import { streamResponse } from "../http/node-bodies";
import { requireScope, type RegistryCtx } from "./caller";
import { API_VERSION_HEADER, RegistryError } from "./errors";
import { findOrMirrorManifest } from "./mirror";
import { registryRepository, type RegistryRepository } from "./names";
import { holdsContent } from "./repository-content";

/**
 * containerd names the registry a request to its mirror is for (`/v2/foo/bar/manifests/1?ns=ghcr.io`):
 * the repository is then `ghcr.io/foo/bar`, as if the path had said so. Docker Hub's names are
 * Berth's own already.
 */
function readRepository(req: Request, name: string): RegistryRepository {
  const ns = new URL(req.url).searchParams.get("ns");
  return registryRepository(name, ns === null || ns === "docker.io" ? undefined : ns);
}

/** GET/HEAD `/v2/<name>/manifests/<reference>`; names of mirrored registries Berth does not hold go through the mirror (mirror.ts). */
export async function getManifest(req: Request, ctx: RegistryCtx, name: string, reference: string): Promise<Response> {
  const repo = readRepository(req, name);
  await requireScope(ctx, repo, "pull");
  const manifest = await findOrMirrorManifest(ctx, repo, reference);
  const headers = {
    ...API_VERSION_HEADER,
    "content-type": manifest.mediaType,
    "content-length": String(manifest.bytes.length),
    "docker-content-digest": manifest.digest.toString(),
    etag: `"${manifest.digest.toString()}"`,
  };
  // A copy typed as fetch's BodyInit wants it (the dashboard compiles this with the DOM library); manifests are small.
  return new Response(req.method === "HEAD" ? null : new Uint8Array(manifest.bytes), { headers });
}

export function parseBlobDigest(text: string): Digest {
  const digest = Digest.tryParse(text);
  if (!digest) throw new RegistryError("DIGEST_INVALID", `invalid digest: ${text} (expected sha256:<64 hex>)`, { digest: text });
  return digest;
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` → [start, end) within size; undefined for no Range. */
function parseRange(header: string | null, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const invalid = () =>
    new RegistryError(
      "RANGE_INVALID",
      `unsatisfiable range ${header} for a blob of ${size} bytes`,
      { size },
      { "content-range": `bytes */${size}` },
    );
  if (!m || (m[1] === "" && m[2] === "")) throw invalid();
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) throw invalid();
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size : Math.min(Number(m[2]) + 1, size);
  if (start >= size || end <= start) throw invalid();
  return { start, end };
}

/** GET/HEAD `/v2/<name>/blobs/<digest>`, with `Range`. */
export async function getBlob(req: Request, ctx: RegistryCtx, name: string, digestText: string): Promise<Response> {
  const repo = readRepository(req, name);
  await requireScope(ctx, repo, "pull");
  const digest = parseBlobDigest(digestText);
  // The store first: a blob it lacks (every layer a push asks about before uploading it) is
  // answered without asking the database which repositories hold it.
  const stored = await ctx.services.blobs.stat(digest);
  const stat = stored && (await holdsContent(ctx.services.db, repo.repository, digest)) ? stored : undefined;
  if (!stat) throw new RegistryError("BLOB_UNKNOWN", `blob unknown: ${digest.toString()}`, { digest: digest.toString() });
  const range = parseRange(req.headers.get("range"), stat.size);
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    "content-type": "application/octet-stream",
    "docker-content-digest": digest.toString(),
    "accept-ranges": "bytes",
    etag: `"${digest.toString()}"`,
    "content-length": String(range ? range.end - range.start : stat.size),
  };
  if (range) headers["content-range"] = `bytes ${range.start}-${range.end - 1}/${stat.size}`;
  const status = range ? 206 : 200;
  if (req.method === "HEAD") return new Response(null, { status, headers });
  const { blobs } = ctx.services;
  if (blobs instanceof FsBlobStore) {
    return fileResponse({ path: blobs.pathOf(digest), start: range?.start ?? 0, end: range?.end ?? stat.size }, { status, headers });
  }
  return streamResponse(await blobs.open(digest, range), { status, headers });
}
