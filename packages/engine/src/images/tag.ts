import { InvalidArgumentError } from "../errors";
import type { ImageRecord, MetadataStore, TagRecord } from "../metadata";
import { normalizedName, parseReference, withDefaultTag } from "../reference";
import { resolveImage } from "./resolve";
import { setTagChecked, type TagPolicy } from "./tag-policy";

export interface TagImageOptions {
  meta: MetadataStore;
  /** Any reference resolveImage accepts. */
  source: string;
  /** `name[:tag]`; `latest` when no tag is given. */
  target: string;
  /** Asked before an existing tag moves to another image. */
  policy?: TagPolicy | undefined;
  now?: Date;
}

export interface TagImageResult {
  image: ImageRecord;
  /** The tag record replaced; its image is left dangling when it has no other tag. */
  previous?: TagRecord;
  repository: string;
  tag: string;
}

/** `docker tag SOURCE TARGET`. */
export async function tagImage({ meta, source, target, policy, now = new Date() }: TagImageOptions): Promise<TagImageResult> {
  const ref = parseReference(target);
  if (ref.digest) throw new InvalidArgumentError("refusing to create a tag with a digest reference");
  const image = await resolveImage({ meta, ref: source });
  const repository = normalizedName(ref);
  const tag = withDefaultTag(ref).tag ?? "latest";
  const previous = await setTagChecked({ meta, repository, tag, imageId: image.id, policy });
  await meta.updateImage(image.id, { lastTagTime: now });
  const updated = (await meta.getImage(image.id)) ?? image;
  return previous ? { image: updated, previous, repository, tag } : { image: updated, repository, tag };
}
