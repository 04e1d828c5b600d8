/**
 * Media types of the two image formats the engine reads and writes.
 * Docker schema2 predates OCI; registries and archives still carry both, so every
 * dispatch on a media type has to accept either family.
 */
export const MediaType = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** Not in the schema2 spec, but written by docker for uncompressed layers. */
  dockerLayerTar: "application/vnd.docker.image.rootfs.diff.tar",
  dockerForeignLayer: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",

  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerTar: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
} as const;

export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];

export function isManifestMediaType(type: string): boolean {
  return type === MediaType.ociManifest || type === MediaType.dockerManifest;
}

export function isIndexMediaType(type: string): boolean {
  return type === MediaType.ociIndex || type === MediaType.dockerManifestList;
}

/** How a layer blob is compressed, judged from its media type. */
export function layerCompression(type: string): "gzip" | "zstd" | "none" | "unknown" {
  switch (type) {
    case MediaType.ociLayerGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.dockerForeignLayer:
      return "gzip";
    case MediaType.ociLayerZstd:
      return "zstd";
    case MediaType.ociLayerTar:
    case MediaType.dockerLayerTar:
      return "none";
    default:
      return "unknown";
  }
}
