import {
  Digest,
  familiarRepository,
  imageRecordFromConfig,
  isIndexMediaType,
  isManifestMediaType,
  isValidTag,
  layerCompression,
  layerContent,
  measureStoredLayer,
  parseConfig,
  parseManifest,
  setTagChecked,
  EngineError,
  MediaType,
  TagChangeDeniedError,
  type ImageManifest,
  type LayerRecord,
} from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import { audited } from "../audit/record";
import { requestBody } from "../http/node-bodies";
import { TagProtection } from "../services/tag-protection";
import { requireScope, type RegistryCtx } from "./caller";
import { API_VERSION_HEADER, RegistryError } from "./errors";
import { registryRepository } from "./names";
import { recordPushedManifest, requireBlobs } from "./repository-content";
import { putIndex } from "./push-index";
import { isArtifactManifest, putArtifact } from "./push-artifact";
import { checkedLayers, inlineCheckLimit, queueLayerChecks, type KnownLayer } from "../services/layer-check";
import { wakeJobRunners } from "../services/job-runner";

/** Manifests are JSON documents of kilobytes; anything near this is not one. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig]);

async function readManifestBody(req: Request): Promise<Buffer> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  const tooLarge = () =>
    new RegistryError("SIZE_INVALID", `a manifest may have at most ${MAX_MANIFEST_BYTES} bytes`, { limit: MAX_MANIFEST_BYTES }, {}, 413);
  if (declared > MAX_MANIFEST_BYTES) throw tooLarge();
  const body = requestBody(req);
  if (!body) throw new RegistryError("MANIFEST_INVALID", "the manifest is missing: send it as the request body");
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_MANIFEST_BYTES) {
      body.destroy();
      throw tooLarge();
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** The media type: the Content-Type the client sent, else the document's own `mediaType`. */
function mediaTypeOf(req: Request, bytes: Buffer): { mediaType: string; json: Record<string, unknown> } {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new RegistryError("MANIFEST_INVALID", `the manifest is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new RegistryError("MANIFEST_INVALID", "the manifest must be a JSON object");
  const doc = json as Record<string, unknown>;
  const header = req.headers.get("content-type")?.split(";")[0]?.trim();
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  const mediaType = header && header !== "application/json" && header !== "application/octet-stream" ? header : declared;
  if (!mediaType) throw new RegistryError("MANIFEST_INVALID", "the manifest's media type is unknown: send it as Content-Type");
  if (declared && declared !== mediaType) {
    throw new RegistryError("MANIFEST_INVALID", `Content-Type ${mediaType} differs from the manifest's mediaType ${declared}`);
  }
  return { mediaType, json: doc };
}

/**
 * A layer's diff_id and uncompressed size, checked against the config's: from a checked layer row
 * of the same blob, or from the blob itself when it is uncompressed or small enough to measure
 * now; a bigger gzip layer is taken as its config says (its size, the blob's, until then), to be
 * checked by a job once the push is answered (services/layer-check.ts).
 */
async function layerRecord(
  ctx: RegistryCtx,
  desc: ImageManifest["layers"][number],
  diffId: Digest,
  index: number,
  known: KnownLayer | undefined,
): Promise<LayerRecord & { checked: boolean }> {
  const base = { diffId, blob: desc.digest, blobSize: desc.size, mediaType: desc.mediaType, checked: true };
  if (known) {
    if (!known.diffId.equals(diffId)) throw mismatch(index, diffId, known.diffId.toString());
    return { ...base, size: known.size };
  }
  const declared = layerCompression(desc.mediaType);
  if (declared === "none") {
    if (!desc.digest.equals(diffId)) throw mismatch(index, diffId, desc.digest.toString());
    return { ...base, size: desc.size };
  }
  if (declared === "gzip" && desc.size > inlineCheckLimit(ctx.services)) return { ...base, size: desc.size, checked: false };
  const measure = await measureStoredLayer(ctx.services.blobs, desc.digest);
  // A zstd layer that says so is taken as its config says: Berth does not decompress zstd, and
  // its uncompressed size is not known (the blob's stands in for it).
  if (measure.compression === "zstd" && declared !== "gzip") return { ...base, size: desc.size };
  const content = layerContent(measure, desc);
  if ("unreadable" in content) throw new RegistryError("MANIFEST_INVALID", `layers[${index}] (${desc.mediaType}) ${content.unreadable}`);
  if (!content.diffId.equals(diffId)) throw mismatch(index, diffId, content.diffId.toString());
  return { ...base, size: content.size };
}

function mismatch(index: number, expected: Digest, actual: string): RegistryError {
  return new RegistryError("MANIFEST_INVALID", `layers[${index}] uncompresses to ${actual}, but the config lists ${expected.toString()}`);
}

interface Stored {
  imageId: Digest;
  targets: { ref: string; digestBefore: string | null; digestAfter: string }[];
}

/**
 * PUT `/v2/<name>/manifests/<reference>`: an image manifest whose config and layers were
 * uploaded becomes an image of Berth, tagged (when the reference is a tag) in one transaction
 * with its audit event, like a pull; an index of such images is kept as it is (push-index.ts), and
 * so is a manifest that is not an image (push-artifact.ts). Protected tags are honoured; a refusal is audited as denied.
 */
export async function putManifest(req: Request, ctx: RegistryCtx, name: string, reference: string): Promise<Response> {
  const repo = registryRepository(name);
  const byDigest = reference.includes(":");
  const display = `${familiarRepository(repo.repository)}${byDigest ? "@" : ":"}${reference}`;
  await requireScope(ctx, repo, "push", "image.push");
  if (!byDigest && !isValidTag(reference))
    throw new RegistryError("MANIFEST_INVALID", `invalid tag: ${JSON.stringify(reference)}`, { tag: reference });
  const bytes = await readManifestBody(req);
  const digest = Digest.of(bytes);
  if (byDigest) {
    const wanted = Digest.tryParse(reference);
    if (!wanted) throw new RegistryError("DIGEST_INVALID", `invalid digest: ${reference}`);
    if (!wanted.equals(digest))
      throw new RegistryError("DIGEST_INVALID", `the manifest's digest is ${digest.toString()}, not ${reference}`, {
        expected: reference,
        actual: digest.toString(),
      });
  }
  const { mediaType, json } = mediaTypeOf(req, bytes);
  if (isIndexMediaType(mediaType)) {
    await putIndex(ctx, { repo, tag: byDigest ? undefined : reference, display, bytes, digest, mediaType });
    return created(repo.name, digest, json);
  }
  if (!isManifestMediaType(mediaType)) throw new RegistryError("MANIFEST_INVALID", `unsupported manifest media type ${mediaType}`);
  if (isArtifactManifest(json, IMAGE_CONFIG_TYPES)) {
    await putArtifact(ctx, { repo, tag: byDigest ? undefined : reference, display, bytes, digest, mediaType, json });
    return created(repo.name, digest, json);
  }
  let manifest: ImageManifest;
  try {
    manifest = parseManifest(bytes);
  } catch (err) {
    throw new RegistryError("MANIFEST_INVALID", (err as Error).message);
  }
  /** Positions of layers to be checked after the push is answered. */
  const unchecked: number[] = [];
  // Shared with pulls and loads, exclusive to blob collection: no blob checked here is removed
  // (an rmi's collection) before the image naming it is committed.
  await ctx.services.blobLock.shared(async () => {
    await requireBlobs(ctx, repo, [
      { digest: manifest.config.digest, what: "config" },
      ...manifest.layers.map((l) => ({ digest: l.digest, what: "layer" })),
    ]);
    const configBytes = await ctx.services.blobs.read(manifest.config.digest, MAX_MANIFEST_BYTES);
    let record;
    try {
      const config = parseConfig(configBytes);
      if (config.rootfs.diff_ids.length !== manifest.layers.length) {
        throw new RegistryError(
          "MANIFEST_INVALID",
          `the config lists ${config.rootfs.diff_ids.length} layers, the manifest ${manifest.layers.length}`,
        );
      }
      const layers: LayerRecord[] = [];
      const known = await checkedLayers(
        ctx.services.db,
        manifest.layers.map((l) => l.digest),
      );
      for (const [i, layer] of manifest.layers.entries()) {
        const { checked, ...measured } = await layerRecord(ctx, layer, config.rootfs.diff_ids[i]!, i, known.get(layer.digest.toString()));
        layers.push(measured);
        if (!checked) unchecked.push(i);
      }
      record = imageRecordFromConfig({ configBytes, config, layers, manifest: { digest, mediaType } });
    } catch (err) {
      if (err instanceof EngineError) throw new RegistryError("MANIFEST_INVALID", err.message);
      throw err;
    }
    await ctx.services.blobs.put(bytes);
    const image = record;
    const pusher = ctx.actor;
    let policy: TagProtection | undefined;
    try {
      await audited<Stored>(
        ctx,
        {
          action: "image.push",
          targets: [{ ref: display }],
          details: { manifestDigest: digest.toString(), mediaType },
          describe: (r) => ({ targets: r.targets, details: policy?.auditDetails() }),
        },
        async (tx) => {
          const meta = new PrismaMetadataStore(tx);
          const created = await meta.putImage(image);
          // (A push always has its pusher: requireScope refuses anonymous pushes.)
          if (created && unchecked.length && pusher) {
            await tx.imageLayer.updateMany({
              where: { imageId: image.id.toString(), position: { in: unchecked } },
              data: { checked: false },
            });
            const blobs = unchecked.map((i) => image.layers[i]!.blob);
            await queueLayerChecks(tx, { actor: pusher, request: ctx.request }, display, blobs);
          }
          await recordPushedManifest(tx, {
            repository: repo.repository,
            digest,
            mediaType,
            imageId: image.id,
            blobs: [manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
          });
          if (byDigest)
            return {
              imageId: image.id,
              targets: [{ ref: display, digestBefore: created ? null : image.id.toString(), digestAfter: image.id.toString() }],
            };
          policy = new TagProtection(tx, ctx.actor);
          const previous = await setTagChecked({ meta, repository: repo.repository, tag: reference, imageId: image.id, policy });
          // The tag keeps the manifest it was pushed with, and now names this image, not an
          // artifact pushed under it before. (One statement: see recordPushedManifest.)
          await tx.$executeRaw`
            WITH pushed_with AS (
              UPDATE tags SET manifest_digest = ${digest.toString()} WHERE repository = ${repo.repository} AND tag = ${reference}
            ), artifact_gone AS (
              DELETE FROM artifact_tags WHERE repository = ${repo.repository} AND tag = ${reference}
            )
            UPDATE images SET last_tag_time = ${new Date()} WHERE id = ${image.id.toString()}`;
          return {
            imageId: image.id,
            targets: [{ ref: display, digestBefore: previous?.imageId.toString() ?? null, digestAfter: image.id.toString() }],
          };
        },
      );
    } catch (err) {
      if (err instanceof TagChangeDeniedError) throw new RegistryError("DENIED", err.message, { tag: reference });
      throw err;
    }
  });
  if (unchecked.length) wakeJobRunners();
  return created(repo.name, digest, json);
}

function created(name: string, digest: Digest, json: Record<string, unknown>): Response {
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    location: `/v2/${name}/manifests/${digest.toString()}`,
    "docker-content-digest": digest.toString(),
    "content-length": "0",
  };
  const subject = json.subject as { digest?: unknown } | undefined;
  if (typeof subject?.digest === "string") headers["oci-subject"] = subject.digest;
  return new Response(null, { status: 201, headers });
}
