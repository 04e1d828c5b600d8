import type { Digest } from "../digest";
import { ConflictError, EngineError } from "../errors";
import type { ImageRecord, MetadataStore, TagRecord } from "../metadata";
import { familiarString, normalizedName, parseReference, withDefaultTag } from "../reference";
import { compareStrings, tagFamiliarString } from "./graph";
import { isImageIdPrefix, resolveImage } from "./resolve";
import type { TagPolicy } from "./tag-policy";

/** One line of `docker rmi` output. */
export type RemoveRecord = { untagged: string } | { deleted: string };

export interface RemoveRefResult {
  ref: string;
  records: RemoveRecord[];
  /** The image the ref resolved to, when it resolved. */
  imageId?: string;
  /** Set when this ref failed; the others still ran (the CLI exits 1). */
  error?: EngineError;
}

export interface RemoveImagesOptions {
  meta: MetadataStore;
  refs: readonly string[];
  force?: boolean;
  /** `--no-prune`: keep untagged parents. */
  noPrune?: boolean;
  /** Asked before any tag is removed; a refusal fails that ref with nothing of it removed. */
  policy?: TagPolicy | undefined;
}

export interface RemoveImagesResult {
  results: RemoveRefResult[];
  /** Layer and config blobs of deleted images, for gcBlobs. */
  blobsToCheck: Digest[];
}

/** The daemon's imageDeleteConflict message. */
export class ImageDeleteConflictError extends ConflictError {
  constructor(
    readonly imageId: Digest,
    readonly hard: boolean,
    reason: string,
  ) {
    super(`conflict: unable to delete ${imageId.short} (${hard ? "cannot be forced" : "must be forced"}) - ${reason}`);
  }
}

/** Pinning is Berth's own: a pinned image stays until someone unpins it, whatever the flags. */
const pinnedConflict = (id: Digest) => new ImageDeleteConflictError(id, true, "image is pinned; unpin it first");

async function sortedTags(meta: MetadataStore, id: Digest): Promise<TagRecord[]> {
  return (await meta.listTags({ imageId: id })).sort((a, b) => compareStrings(tagFamiliarString(a), tagFamiliarString(b)));
}

async function childrenOf(meta: MetadataStore, id: Digest): Promise<ImageRecord[]> {
  return (await meta.listImages()).filter((i) => i.parentId?.equals(id));
}

/**
 * `docker rmi`, following the daemon's ImageDelete: a name untags (and deletes the image with its
 * last tag); an ID deletes, refusing without force when the image has more than one tag, and never
 * when other images name it as parent. Untagged parents are removed too unless `noPrune`.
 */
export async function removeImages({
  meta,
  refs,
  force = false,
  noPrune = false,
  policy,
}: RemoveImagesOptions): Promise<RemoveImagesResult> {
  const deleted: ImageRecord[] = [];
  const released: Digest[] = [];
  const results: RemoveRefResult[] = [];
  for (const ref of refs) {
    const records: RemoveRecord[] = [];
    const resolved: { id?: Digest } = {};
    try {
      await removeOne({ meta, ref, force, prune: !noPrune, policy, records, deleted, released, resolved });
      results.push({ ref, records, imageId: resolved.id?.toString() });
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      results.push({ ref, records, imageId: resolved.id?.toString(), error: e });
    }
  }
  return { results, blobsToCheck: blobsOf(deleted, released) };
}

/** Every blob the deleted images named, and the documents that went with them (`released`). */
export function blobsOf(images: readonly ImageRecord[], released: readonly Digest[] = []): Digest[] {
  const out = new Map<string, Digest>();
  for (const digest of released) out.set(digest.hex, digest);
  for (const image of images) {
    out.set(image.id.hex, image.id);
    if (image.manifestDigest) out.set(image.manifestDigest.hex, image.manifestDigest);
    for (const layer of image.layers) out.set(layer.blob.hex, layer.blob);
  }
  return [...out.values()];
}

interface RemoveContext {
  meta: MetadataStore;
  force: boolean;
  prune: boolean;
  policy?: TagPolicy | undefined;
  records: RemoveRecord[];
  deleted: ImageRecord[];
  /** Blobs of documents deleted with the images (indexes, extra manifests). */
  released: Digest[];
}

/** Asks the policy about every tag before the first one goes, so a refusal changes nothing. */
async function checkRemovals(ctx: RemoveContext, image: ImageRecord, tags: readonly Pick<TagRecord, "repository" | "tag">[]) {
  for (const { repository, tag } of tags) await ctx.policy?.checkTagChange({ repository, tag, from: image.id, to: null });
}

async function removeOne(ctx: RemoveContext & { ref: string; resolved: { id?: Digest } }): Promise<void> {
  const { meta, ref, force, records } = ctx;
  const image = await resolveImage({ meta, ref });
  ctx.resolved.id = image.id;
  let tags = await sortedTags(meta, image.id);
  let quiet = false;
  const parsed = isImageIdPrefix(image, ref) ? undefined : parseReference(ref);
  if (parsed && !parsed.digest) {
    // A repository reference: remove that tag first.
    const named = withDefaultTag(parsed);
    const name = { repository: normalizedName(named), tag: named.tag ?? "latest" };
    // Its last name: untagging would delete the image, unless a child keeps it.
    if (image.pinned && tags.length === 1 && (await childrenOf(meta, image.id)).length === 0) throw pinnedConflict(image.id);
    await checkRemovals(ctx, image, [name]);
    await meta.deleteTag(name.repository, name.tag);
    records.push({ untagged: familiarString(named) });
    tags = await sortedTags(meta, image.id);
    if (tags.length > 0) return;
    quiet = true;
  } else if (image.pinned) {
    throw pinnedConflict(image.id);
  } else if (tags.length === 1) {
    // An ID with a single tag: untag it, unless a child image makes deletion impossible.
    if ((await childrenOf(meta, image.id)).length > 0) {
      throw new ImageDeleteConflictError(image.id, true, "image has dependent child images");
    }
    await checkRemovals(ctx, image, tags);
    for (const tag of tags) {
      await meta.deleteTag(tag.repository, tag.tag);
      records.push({ untagged: tagFamiliarString(tag) });
    }
  }
  await deleteHelper(ctx, image, force, quiet);
}

async function deleteHelper(ctx: RemoveContext, image: ImageRecord, force: boolean, quiet: boolean): Promise<void> {
  const { meta, records } = ctx;
  const tags = await sortedTags(meta, image.id);
  const children = await childrenOf(meta, image.id);
  const indexed = await isInTaggedIndex(meta, image.id);
  let conflict: ImageDeleteConflictError | undefined;
  if (children.length > 0) conflict = new ImageDeleteConflictError(image.id, true, "image has dependent child images");
  else if (indexed) conflict = new ImageDeleteConflictError(image.id, true, "image is part of a tagged multi-platform index");
  else if (image.pinned) conflict = pinnedConflict(image.id);
  else if (!force && tags.length > 0)
    conflict = new ImageDeleteConflictError(image.id, false, "image is referenced in multiple repositories");
  if (conflict) {
    const dangling = tags.length === 0 && children.length === 0 && !indexed;
    if (quiet && !dangling) return;
    throw conflict;
  }
  await checkRemovals(ctx, image, tags);
  for (const tag of tags) {
    await meta.deleteTag(tag.repository, tag.tag);
    records.push({ untagged: tagFamiliarString(tag) });
  }
  const released = await meta.deleteImage(image.id);
  records.push({ deleted: image.id.toString() });
  ctx.deleted.push(image);
  if (released) ctx.released.push(...released);
  if (!ctx.prune || !image.parentId) return;
  const parent = await meta.getImage(image.parentId);
  // Parents are pruned quietly, never forced; pinned images are never pruned.
  if (parent && !parent.pinned) await deleteHelper(ctx, parent, false, true);
}

/** One image's question, asked as one (a removal of many images must not list every index each time). */
async function isInTaggedIndex(meta: RemoveContext["meta"], id: Digest): Promise<boolean> {
  if (meta.isImageInTaggedIndex) return meta.isImageInTaggedIndex(id);
  return (await meta.imagesInIndexes?.())?.some((d) => d.equals(id)) ?? false;
}
