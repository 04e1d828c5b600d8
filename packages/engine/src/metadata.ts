import type { Digest } from "./digest";

/** One layer of an image, in config order. */
export interface LayerRecord {
  /** sha256 of the uncompressed tar, as listed in the config's rootfs.diff_ids. */
  diffId: Digest;
  /** Digest of the blob as stored (equals diffId for uncompressed layers). */
  blob: Digest;
  /** Bytes of the stored blob. */
  blobSize: number;
  /** Bytes of the uncompressed tar: what docker reports as size. */
  size: number;
  /** Media type of the stored blob (OCI or Docker layer type, gzip or plain). */
  mediaType: string;
}

/** An image in the store. Its ID is the digest of its config JSON (stored as a blob). */
export interface ImageRecord {
  id: Digest;
  /** config.created; null when the config has none. */
  created: Date | null;
  architecture: string;
  os: string;
  variant: string | null;
  /** Sum of the uncompressed layer sizes (docker's Size). */
  size: number;
  configSize: number;
  layers: LayerRecord[];
  labels: Record<string, string>;
  /** Image ID of the parent for locally built images, otherwise null (docker's Parent). */
  parentId: Digest | null;
  /** Digest and media type of the manifest the image arrived with (registry, OCI layout), if any. */
  manifestDigest: Digest | null;
  manifestMediaType: string | null;
  /** Pinned images are never pruned. */
  pinned: boolean;
  /** When the image first entered the store. */
  loadedAt: Date;
  /** docker's Metadata.LastTagTime; null when never tagged. */
  lastTagTime: Date | null;
}

/** A tag: repository (normalised, e.g. docker.io/library/redis) + tag → image. */
export interface TagRecord {
  repository: string;
  tag: string;
  imageId: Digest;
  updatedAt: Date;
}

/**
 * Where the engine keeps image metadata. The db package implements it over PostgreSQL
 * (one instance per transaction, so an operation and its audit event commit together);
 * the engine's tests use an in-memory implementation. Every method may reject.
 */
export interface MetadataStore {
  getImage(id: Digest): Promise<ImageRecord | undefined>;
  /** Image IDs whose hex starts with `hexPrefix` (at most `limit`). */
  findImageIds(hexPrefix: string, limit: number): Promise<Digest[]>;
  listImages(): Promise<ImageRecord[]>;
  /** Inserts the image if absent (layers included); returns true when it was new. */
  putImage(image: ImageRecord): Promise<boolean>;
  updateImage(id: Digest, patch: Partial<Pick<ImageRecord, "pinned" | "lastTagTime">>): Promise<void>;
  /**
   * Deletes the image and its layer rows; its tags must already be gone. Returns the digests of
   * other stored documents that went with it (an untagged index listing it, the extra manifests it
   * was pushed with), whose blobs the caller may then collect.
   */
  deleteImage(id: Digest): Promise<Digest[] | void>;

  getTag(repository: string, tag: string): Promise<TagRecord | undefined>;
  listTags(filter?: { imageId?: Digest; repository?: string }): Promise<TagRecord[]>;
  /** Points repository:tag at imageId; returns the record it replaced, if any. */
  setTag(repository: string, tag: string, imageId: Digest): Promise<TagRecord | undefined>;
  deleteTag(repository: string, tag: string): Promise<void>;

  /**
   * True when any image uses the blob as a layer, its config or a manifest it arrived with, or
   * something else the store keeps names it (an index, an artifact).
   */
  isBlobReferenced(blob: Digest): Promise<boolean>;
  /** The blob was deleted from the store: forget what else was recorded about it (where it was pushed). */
  forgetBlob?(blob: Digest): Promise<void>;
  /**
   * Images a tagged multi-platform index lists: kept like tagged images (not pruned, not
   * removed) while the index is tagged. Stores without indexes need not implement it.
   */
  imagesInIndexes?(): Promise<Digest[]>;
  /** Whether a tagged multi-platform index lists `id`: one image's answer, for removals. */
  isImageInTaggedIndex?(id: Digest): Promise<boolean>;
}
