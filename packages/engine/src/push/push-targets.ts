import { EngineError, InvalidArgumentError } from "../errors";
import type { ImageRecord, MetadataStore } from "../metadata";
import { DEFAULT_TAG, familiarName, normalizedName, parseReference, type ImageReference } from "../reference";

/** What `docker push NAME[:TAG]` (or `-a NAME`) pushes: the repository, its tags and their images. */
export interface PushTargets {
  ref: ImageReference;
  /** `127.0.0.1:5000/team/app`, `docker.io/library/redis`. */
  repository: string;
  tags: { tag: string; image: ImageRecord }[];
  /**
   * Other repositories on the same registry that these images are tagged in (they came from
   * there or were pushed there): the places a cross-repository mount can take blobs from.
   */
  mountFrom: string[];
}

/** Docker's message when the tag to push is not in the store. */
export class NoSuchTagToPushError extends EngineError {
  constructor(readonly imageName: string) {
    super("NOT_FOUND", `An image does not exist locally with the tag: ${imageName}`);
  }
}

/**
 * Resolves a push as docker does: `NAME` means `NAME:latest`, `-a` every tag of the
 * repository; a digest reference cannot be pushed, and `-a` takes no tag.
 */
export async function resolvePushTargets(opts: { meta: MetadataStore; ref: string; allTags?: boolean }): Promise<PushTargets> {
  const ref = parseReference(opts.ref);
  if (ref.digest) throw new InvalidArgumentError(`cannot push a digest reference: ${opts.ref}`);
  if (opts.allTags && ref.tag !== undefined) throw new InvalidArgumentError("tag can't be used with --all-tags/-a");
  const repository = normalizedName(ref);
  const records = opts.allTags
    ? (await opts.meta.listTags({ repository })).sort((a, b) => a.tag.localeCompare(b.tag))
    : [await opts.meta.getTag(repository, ref.tag ?? DEFAULT_TAG)].filter((t) => t !== undefined);
  const tags: PushTargets["tags"] = [];
  for (const record of records) {
    const image = await opts.meta.getImage(record.imageId);
    if (image) tags.push({ tag: record.tag, image });
  }
  if (tags.length === 0) throw new NoSuchTagToPushError(familiarName(ref));

  const mountFrom: string[] = [];
  for (const { image } of tags) {
    for (const other of await opts.meta.listTags({ imageId: image.id })) {
      const source = parseReference(other.repository);
      if (source.domain === ref.domain && source.path !== ref.path && !mountFrom.includes(source.path)) mountFrom.push(source.path);
    }
  }
  return { ref, repository, tags, mountFrom };
}
