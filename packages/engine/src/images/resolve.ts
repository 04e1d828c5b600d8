import { Digest } from "../digest";
import { AmbiguousImageError, NoSuchImageError } from "../errors";
import type { ImageRecord, MetadataStore } from "../metadata";
import { type ImageReference, familiarString, normalizedName, parseReference, withDefaultTag } from "../reference";

export interface ResolveImageOptions {
  meta: MetadataStore;
  /** An image ID (`sha256:…`, 64 hex, or a unique prefix of either), `name[:tag]` or `name@digest`. */
  ref: string;
}

const HEX64 = /^[a-f0-9]{64}$/;
const SHA_PREFIX = /^sha256:([a-f0-9]{0,64})$/;
const HEX_PREFIX = /^[a-f0-9]+$/;

/**
 * Finds an image as docker's daemon does (ImageService.GetImage): a full ID; else a tagged name
 * (default tag `latest`); else a unique ID prefix. Names win over prefixes.
 * Throws InvalidReferenceError, AmbiguousImageError or NoSuchImageError (`No such image: redis:latest`).
 */
export async function resolveImage({ meta, ref }: ResolveImageOptions): Promise<ImageRecord> {
  // A full ID (with or without sha256:) is a digest reference, never a name.
  const full = HEX64.test(ref) ? Digest.fromHex(ref) : Digest.tryParse(ref);
  if (full) {
    const image = await meta.getImage(full);
    if (!image) throw new NoSuchImageError(full.toString());
    return image;
  }

  // `sha256:<short>` parses as the name "sha256" with a tag; docker tries it as a name first too.
  const parsed = parseReference(ref);
  const byName = await resolveByName(meta, parsed);
  if (byName) return byName;

  const prefix = SHA_PREFIX.exec(ref)?.[1] ?? (HEX_PREFIX.test(ref) ? ref : undefined);
  if (prefix) {
    const ids = await meta.findImageIds(prefix, 1000);
    if (ids.length > 1) throw new AmbiguousImageError(ref, ids.length);
    const [id] = ids;
    if (id) {
      const image = await meta.getImage(id);
      if (image) return image;
    }
  }
  throw new NoSuchImageError(familiarString(withDefaultTag(parsed)));
}

async function resolveByName(meta: MetadataStore, ref: ImageReference): Promise<ImageRecord | undefined> {
  const repository = normalizedName(ref);
  if (ref.digest) {
    // name@digest: the manifest digest (or ID) of an image tagged in that repository.
    const digest = ref.digest;
    for (const tag of await meta.listTags({ repository })) {
      const image = await meta.getImage(tag.imageId);
      if (image && (image.manifestDigest?.equals(digest) || image.id.equals(digest))) return image;
    }
    return undefined;
  }
  const tag = await meta.getTag(repository, ref.tag ?? "latest");
  return tag ? meta.getImage(tag.imageId) : undefined;
}

/** True when `ref` was given as an ID or ID prefix of `image` (docker's isImageIDPrefix). */
export function isImageIdPrefix(image: ImageRecord, ref: string): boolean {
  const id = image.id.toString();
  return id.startsWith(ref) || image.id.hex.startsWith(ref);
}
