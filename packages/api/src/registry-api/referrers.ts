import { MediaType, planManifest } from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import { requireScope, type RegistryCtx } from "./caller";
import { API_VERSION_HEADER } from "./errors";
import { registryRepository } from "./names";
import { parseBlobDigest } from "./read-endpoints";

interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType: string;
  annotations?: Record<string, string>;
}

/**
 * GET `/v2/<name>/referrers/<digest>`: the repository's manifests whose `subject` is `digest` (its
 * tagged images', and its artifacts, tagged or not), as an OCI index (empty when there are none),
 * filtered by `artifactType` when asked.
 */
export async function listReferrers(req: Request, ctx: RegistryCtx, name: string, digestText: string): Promise<Response> {
  const repo = registryRepository(name);
  await requireScope(ctx, repo, "pull");
  const subject = parseBlobDigest(digestText).toString();
  const artifactType = new URL(req.url).searchParams.get("artifactType");
  const meta = new PrismaMetadataStore(ctx.services.db);
  const imageIds = new Set((await meta.listTags({ repository: repo.repository })).map((t) => t.imageId.toString()));
  const manifests: ReferrerDescriptor[] = [];
  const seen = new Set<string>();
  for (const id of imageIds) {
    const image = await meta.getImage(parseBlobDigest(id));
    if (!image) continue;
    const plan = await planManifest(ctx.services.blobs, image);
    if (seen.has(plan.digest.toString())) continue;
    seen.add(plan.digest.toString());
    const doc = JSON.parse(plan.bytes.toString("utf8")) as {
      subject?: { digest?: unknown };
      artifactType?: unknown;
      annotations?: Record<string, string>;
    };
    if (doc.subject?.digest !== subject) continue;
    const type = typeof doc.artifactType === "string" ? doc.artifactType : plan.config.mediaType;
    if (artifactType && type !== artifactType) continue;
    manifests.push({
      mediaType: plan.mediaType,
      digest: plan.digest.toString(),
      size: plan.bytes.length,
      artifactType: type,
      ...(doc.annotations ? { annotations: doc.annotations } : {}),
    });
  }
  // Artifacts (signatures, SBOMs) pushed with this subject, tagged or not.
  const artifacts = await ctx.services.db.artifact.findMany({
    where: { repository: repo.repository, subject, ...(artifactType ? { artifactType } : {}) },
    orderBy: { createdAt: "asc" },
  });
  for (const a of artifacts) {
    if (seen.has(a.digest)) continue;
    seen.add(a.digest);
    const annotations = a.annotations as Record<string, string> | null;
    manifests.push({
      mediaType: a.mediaType,
      digest: a.digest,
      size: a.size,
      artifactType: a.artifactType,
      ...(annotations ? { annotations } : {}),
    });
  }
  const headers: Record<string, string> = { ...API_VERSION_HEADER, "content-type": MediaType.ociIndex };
  if (artifactType) headers["oci-filters-applied"] = "artifactType";
  return new Response(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }), { headers });
}
