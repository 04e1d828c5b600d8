import type { Digest } from "../digest";
import { EngineError } from "../errors";
import type { MetadataStore, TagRecord } from "../metadata";

/** An existing tag about to point at another image (`to`) or to be removed (`to` null). */
export interface TagChange {
  /** Normalised repository, e.g. docker.io/team-a/app. */
  repository: string;
  tag: string;
  from: Digest;
  to: Digest | null;
}

/**
 * Rules the engine's caller holds about who may change which tags (tag protection). The engine
 * knows no rules and no people: it asks before it changes an existing tag, so a refusal leaves
 * the store as it was.
 */
export interface TagPolicy {
  /** Rejects, usually with a TagChangeDeniedError naming the rule, when the change is not allowed. */
  checkTagChange(change: TagChange): Promise<void>;
}

/** A TagPolicy refused a change; the message says which rule and who could make it. */
export class TagChangeDeniedError extends EngineError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

export interface SetTagOptions {
  meta: MetadataStore;
  repository: string;
  tag: string;
  imageId: Digest;
  policy?: TagPolicy | undefined;
}

/**
 * Points repository:tag at imageId, asking the policy first when that moves an existing tag
 * (pointing it at the image it already names is no change). Returns the record it replaced.
 */
export async function setTagChecked({ meta, repository, tag, imageId, policy }: SetTagOptions): Promise<TagRecord | undefined> {
  if (!policy) return meta.setTag(repository, tag, imageId);
  const current = await meta.getTag(repository, tag);
  if (current && !current.imageId.equals(imageId)) await policy.checkTagChange({ repository, tag, from: current.imageId, to: imageId });
  const previous = await meta.setTag(repository, tag, imageId);
  // Moved by someone else between the check and the write: that move is judged too (the caller's
  // transaction rolls the write back when it is refused).
  if (previous && !previous.imageId.equals(imageId) && !(current && previous.imageId.equals(current.imageId))) {
    await policy.checkTagChange({ repository, tag, from: previous.imageId, to: imageId });
  }
  return previous;
}
