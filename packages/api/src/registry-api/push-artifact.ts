import { Digest, familiarRepository } from "@berth/engine";
import { audited } from "../audit/record";
import type { RegistryCtx } from "./caller";
import { RegistryError } from "./errors";
import type { ManifestPut } from "./push-index";
import { requireBlobs, settleUploads } from "./repository-content";

/** The PUT, and the manifest's JSON (already parsed by push-manifest.ts). */
export interface ArtifactPush extends ManifestPut {
  json: Record<string, unknown>;
}

interface Parsed {
  configType: string;
  blobs: Digest[];
  artifactType: string;
  subject: string | null;
  annotations: Record<string, string> | null;
}

function descriptorDigest(value: unknown, where: string): Digest {
  const digest = typeof value === "object" && value !== null ? Digest.tryParse(String((value as { digest?: unknown }).digest)) : undefined;
  if (!digest) throw new RegistryError("MANIFEST_INVALID", `${where} must be a descriptor with a sha256 digest`);
  return digest;
}

/** The parts of an OCI 1.1 artifact manifest (or any manifest whose config is not an image's) Berth keeps. */
function parseArtifact(json: Record<string, unknown>): Parsed {
  const config = json.config as { mediaType?: unknown } | undefined;
  const configDigest = descriptorDigest(config, "config");
  const configType = typeof config?.mediaType === "string" ? config.mediaType : "";
  if (json.layers !== undefined && !Array.isArray(json.layers)) throw new RegistryError("MANIFEST_INVALID", "layers must be an array");
  const layers = ((json.layers as unknown[] | undefined) ?? []).map((l, i) => descriptorDigest(l, `layers[${i}]`));
  const subject = json.subject === undefined ? null : descriptorDigest(json.subject, "subject").toString();
  const artifactType = typeof json.artifactType === "string" && json.artifactType ? json.artifactType : configType;
  if (!artifactType) throw new RegistryError("MANIFEST_INVALID", "an artifact needs an artifactType or a config media type");
  const annotations =
    typeof json.annotations === "object" && json.annotations !== null ? (json.annotations as Record<string, string>) : null;
  return { configType, blobs: [configDigest, ...layers], artifactType, subject, annotations };
}

/**
 * A manifest whose config is not a container image's: a signature, an SBOM, an attestation, a
 * chart. Its blobs must have been uploaded; it is kept as pushed, named by its tag if it has one
 * (replacing an image tag of that name), and audited as `artifact.push`.
 */
export async function putArtifact(ctx: RegistryCtx, push: ArtifactPush): Promise<void> {
  const parsed = parseArtifact(push.json);
  const { repo, tag, digest } = push;
  await ctx.services.blobLock.shared(async () => {
    await requireBlobs(
      ctx,
      repo,
      parsed.blobs.map((digest) => ({ digest, what: "blob" })),
    );
    await ctx.services.blobs.put(push.bytes);
    await audited(
      ctx,
      {
        action: "artifact.push",
        targets: [{ ref: push.display, digestAfter: digest.toString() }],
        details: { artifactType: parsed.artifactType, ...(parsed.subject ? { subject: parsed.subject } : {}) },
      },
      async (tx) => {
        await tx.artifact.upsert({
          where: { repository_digest: { repository: repo.repository, digest: digest.toString() } },
          create: {
            repository: repo.repository,
            digest: digest.toString(),
            mediaType: push.mediaType,
            artifactType: parsed.artifactType,
            subject: parsed.subject,
            size: push.bytes.length,
            blobs: parsed.blobs.map((b) => b.toString()),
            annotations: parsed.annotations ?? undefined,
          },
          update: {},
        });
        await settleUploads(tx, repo.repository, parsed.blobs);
        if (tag === undefined) return;
        const image = await tx.tag.findUnique({ where: { repository_tag: { repository: repo.repository, tag } } });
        if (image) {
          throw new RegistryError(
            "DENIED",
            `${familiarRepository(repo.repository)}:${tag} names an image; remove that tag before pushing an artifact under its name`,
            { tag },
          );
        }
        await tx.artifactTag.upsert({
          where: { repository_tag: { repository: repo.repository, tag } },
          create: { repository: repo.repository, tag, digest: digest.toString() },
          update: { digest: digest.toString(), updatedAt: new Date() },
        });
      },
    );
  });
}

/** Whether a manifest's config makes it an artifact rather than a container image. */
export function isArtifactManifest(json: Record<string, unknown>, imageConfigTypes: ReadonlySet<string>): boolean {
  const config = json.config as { mediaType?: unknown } | undefined;
  return typeof json.artifactType === "string" || typeof config?.mediaType !== "string" || !imageConfigTypes.has(config.mediaType);
}
