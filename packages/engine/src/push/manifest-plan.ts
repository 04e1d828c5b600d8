import type { BlobStore } from "../blob-store";
import { Digest } from "../digest";
import { BlobNotFoundError, InvalidArgumentError } from "../errors";
import { parseManifest, type Descriptor } from "../image-model";
import { MediaType, isManifestMediaType, layerCompression } from "../media-types";
import type { ImageRecord, LayerRecord } from "../metadata";

/** The manifest a push sends last, and the blobs it names (config, then layers in order). */
export interface ManifestPlan {
  mediaType: string;
  bytes: Buffer;
  digest: Digest;
  config: Descriptor;
  /** With the diff_id each layer is shown by. */
  layers: { desc: Descriptor; diffId: Digest }[];
  /** True when these are the bytes the image arrived with (its digest is unchanged). */
  original: boolean;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * What to push for an image: the manifest it was pulled or loaded with, byte for byte, when
 * the store still has it and it describes exactly this image; otherwise one built from the
 * config and layer records. Layers always go as stored (never recompressed), so a built
 * manifest takes each layer's media type from how its blob is compressed.
 */
export async function planManifest(blobs: BlobStore, image: ImageRecord): Promise<ManifestPlan> {
  return (await originalManifest(blobs, image)) ?? builtManifest(image);
}

async function originalManifest(blobs: BlobStore, image: ImageRecord): Promise<ManifestPlan | undefined> {
  const { manifestDigest: digest, manifestMediaType: mediaType } = image;
  if (!digest || !mediaType || !isManifestMediaType(mediaType)) return undefined;
  let bytes: Buffer;
  try {
    bytes = await blobs.read(digest, MAX_MANIFEST_BYTES);
  } catch (err) {
    if (err instanceof BlobNotFoundError) return undefined;
    throw err;
  }
  let manifest;
  try {
    manifest = parseManifest(bytes, `manifest ${digest.toString()}`);
  } catch {
    return undefined;
  }
  const sameImage =
    manifest.config.digest.equals(image.id) &&
    manifest.layers.length === image.layers.length &&
    manifest.layers.every((layer, i) => layer.digest.equals(image.layers[i]!.blob));
  if (!sameImage) return undefined;
  return {
    mediaType,
    bytes,
    digest,
    config: manifest.config,
    layers: manifest.layers.map((desc, i) => ({ desc, diffId: image.layers[i]!.diffId })),
    original: true,
  };
}

/** A Docker schema2 manifest, or an OCI one when a layer's compression has no Docker media type (zstd). */
function builtManifest(image: ImageRecord): ManifestPlan {
  const oci = image.layers.some((l) => dockerLayerType(l) === undefined);
  const config: Descriptor = {
    mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig,
    digest: image.id,
    size: image.configSize,
  };
  const layers = image.layers.map((layer) => ({
    desc: { mediaType: oci ? ociLayerType(layer) : dockerLayerType(layer)!, digest: layer.blob, size: layer.blobSize },
    diffId: layer.diffId,
  }));
  const mediaType = oci ? MediaType.ociManifest : MediaType.dockerManifest;
  const descriptor = (d: Descriptor) => ({ mediaType: d.mediaType, size: d.size, digest: d.digest.toString() });
  // Docker's own layout and indentation, so a manifest built here looks like one docker pushed.
  const json = {
    schemaVersion: 2,
    mediaType,
    config: descriptor(config),
    layers: layers.map((l) => descriptor(l.desc)),
  };
  const bytes = Buffer.from(JSON.stringify(json, null, 3), "utf8");
  return { mediaType, bytes, digest: Digest.of(bytes), config, layers, original: false };
}

function dockerLayerType(layer: LayerRecord): string | undefined {
  if (layer.mediaType === MediaType.dockerForeignLayer) return layer.mediaType;
  switch (layerCompression(layer.mediaType)) {
    case "none":
      return MediaType.dockerLayerTar;
    case "gzip":
      return MediaType.dockerLayerGzip;
    default:
      return undefined;
  }
}

function ociLayerType(layer: LayerRecord): string {
  switch (layerCompression(layer.mediaType)) {
    case "none":
      return MediaType.ociLayerTar;
    case "gzip":
      return MediaType.ociLayerGzip;
    case "zstd":
      return MediaType.ociLayerZstd;
    default:
      throw new InvalidArgumentError(`layer ${layer.blob.toString()} has media type ${layer.mediaType}, which cannot be pushed`);
  }
}
