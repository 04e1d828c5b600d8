import type { BlobStore } from "../blob-store";
import type { Digest } from "../digest";
import { InvalidArgumentError } from "../errors";
import { imageRecordFromConfig, type ImageConfig } from "../image-model";
import { setTagChecked, type TagPolicy } from "../images/tag-policy";
import type { ImageRecord, LayerRecord, MetadataStore, TagRecord } from "../metadata";
import { familiarName, normalizedName, parseReference, withDefaultTag } from "../reference";

export interface StoreImageOptions {
  /** docker's Parent: the image this one was built or committed on. */
  parentId?: Digest | null;
  loadedAt?: Date;
}

/**
 * Records an image built from layers already in the blob store: the config is serialised as
 * given (JSON.stringify keeps the caller's key order, so the same config gives the same ID),
 * stored as a blob, and the image record put. Storing an image that exists returns the
 * existing record unchanged. Tags are the caller's business.
 */
export async function storeImage(
  store: BlobStore,
  meta: MetadataStore,
  config: ImageConfig,
  layers: LayerRecord[],
  options: StoreImageOptions = {},
): Promise<ImageRecord> {
  for (const [i, layer] of layers.entries()) {
    if (!(await store.has(layer.blob))) {
      throw new InvalidArgumentError(`layer ${i} (${layer.blob.toString()}) is not in the blob store`);
    }
  }
  const configBytes = Buffer.from(JSON.stringify(config), "utf8");
  // Checks diff_ids against the layers before anything is written.
  const record = imageRecordFromConfig({ configBytes, config, layers, loadedAt: options.loadedAt });
  record.parentId = options.parentId ?? null;
  await store.put(configBytes);
  if (await meta.putImage(record)) return record;
  return (await meta.getImage(record.id)) ?? record;
}

/** An image whose blobs (layers, not yet the config) are in the store, ready to be recorded. */
export interface PreparedImage {
  config: ImageConfig;
  layers: LayerRecord[];
  parentId: Digest | null;
  /** Layer blobs this operation wrote (for a caller that collects them when recording fails). */
  writtenBlobs: Digest[];
}

/** Where an import or commit puts its tag: `repository[:tag]` (default tag latest), never a digest. */
export interface TargetTag {
  repository: string;
  tag: string;
  /** `name:tag` as docker prints it. */
  display: string;
}

/** Checks a REPOSITORY[:TAG] argument up front, before any upload is read. */
export function parseTargetTag(reference: string): TargetTag {
  const ref = parseReference(reference);
  if (ref.digest) throw new InvalidArgumentError(`refusing to create a tag with a digest reference: ${reference}`);
  const tag = withDefaultTag(ref).tag ?? "latest";
  return { repository: normalizedName(ref), tag, display: `${familiarName(ref)}:${tag}` };
}

export interface SaveImageOptions {
  target?: TargetTag;
  /** Asked before an existing tag moves (tag protection). */
  policy?: TagPolicy;
  now?: Date;
}

export interface SavedImage {
  image: ImageRecord;
  /** The tag set, and the record it replaced (its image left dangling), if any. */
  tagged?: TargetTag & { previous?: TagRecord };
}

/** Stores a prepared image and sets its tag: the metadata half of import and commit (one transaction in the api). */
export async function saveImage(
  store: BlobStore,
  meta: MetadataStore,
  prepared: PreparedImage,
  options: SaveImageOptions = {},
): Promise<SavedImage> {
  const now = options.now ?? new Date();
  const image = await storeImage(store, meta, prepared.config, prepared.layers, { parentId: prepared.parentId, loadedAt: now });
  const { target } = options;
  if (!target) return { image };
  const previous = await setTagChecked({ meta, repository: target.repository, tag: target.tag, imageId: image.id, policy: options.policy });
  await meta.updateImage(image.id, { lastTagTime: now });
  const updated = (await meta.getImage(image.id)) ?? image;
  return { image: updated, tagged: previous ? { ...target, previous } : { ...target } };
}
