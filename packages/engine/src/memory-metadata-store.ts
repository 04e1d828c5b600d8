import type { Digest } from "./digest";
import type { ImageRecord, MetadataStore, TagRecord } from "./metadata";

function cloneImage(image: ImageRecord): ImageRecord {
  return {
    ...image,
    created: image.created ? new Date(image.created) : null,
    loadedAt: new Date(image.loadedAt),
    lastTagTime: image.lastTagTime ? new Date(image.lastTagTime) : null,
    layers: image.layers.map((l) => ({ ...l })),
    labels: { ...image.labels },
  };
}

function cloneTag(tag: TagRecord): TagRecord {
  return { ...tag, updatedAt: new Date(tag.updatedAt) };
}

function tagKey(repository: string, tag: string): string {
  return `${repository}\u0000${tag}`;
}

/**
 * MetadataStore kept in memory: the engine's tests use it, and it documents the contract the
 * PostgreSQL store must also meet (test/metadata-store-conformance.ts runs against both).
 * Records are copied in and out, so callers never share mutable state with the store.
 */
export class MemoryMetadataStore implements MetadataStore {
  private readonly images = new Map<string, ImageRecord>();
  private readonly tags = new Map<string, TagRecord>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  getImage(id: Digest): Promise<ImageRecord | undefined> {
    const image = this.images.get(id.hex);
    return Promise.resolve(image ? cloneImage(image) : undefined);
  }

  findImageIds(hexPrefix: string, limit: number): Promise<Digest[]> {
    const prefix = hexPrefix.toLowerCase();
    const found: Digest[] = [];
    for (const image of [...this.images.values()].sort((a, b) => (a.id.hex < b.id.hex ? -1 : 1))) {
      if (found.length >= limit) break;
      if (image.id.hex.startsWith(prefix)) found.push(image.id);
    }
    return Promise.resolve(found);
  }

  listImages(): Promise<ImageRecord[]> {
    return Promise.resolve([...this.images.values()].map(cloneImage));
  }

  putImage(image: ImageRecord): Promise<boolean> {
    if (this.images.has(image.id.hex)) return Promise.resolve(false);
    this.images.set(image.id.hex, cloneImage(image));
    return Promise.resolve(true);
  }

  updateImage(id: Digest, patch: Partial<Pick<ImageRecord, "pinned" | "lastTagTime">>): Promise<void> {
    const image = this.images.get(id.hex);
    if (image) {
      if (patch.pinned !== undefined) image.pinned = patch.pinned;
      if (patch.lastTagTime !== undefined) image.lastTagTime = patch.lastTagTime ? new Date(patch.lastTagTime) : null;
    }
    return Promise.resolve();
  }

  deleteImage(id: Digest): Promise<void> {
    for (const tag of this.tags.values()) {
      if (tag.imageId.equals(id)) {
        return Promise.reject(new Error(`image ${id.toString()} still has tag ${tag.repository}:${tag.tag}`));
      }
    }
    this.images.delete(id.hex);
    return Promise.resolve();
  }

  getTag(repository: string, tag: string): Promise<TagRecord | undefined> {
    const record = this.tags.get(tagKey(repository, tag));
    return Promise.resolve(record ? cloneTag(record) : undefined);
  }

  listTags(filter?: { imageId?: Digest; repository?: string }): Promise<TagRecord[]> {
    const tags = [...this.tags.values()]
      .filter(
        (t) =>
          (!filter?.imageId || t.imageId.equals(filter.imageId)) &&
          (filter?.repository === undefined || t.repository === filter.repository),
      )
      .sort((a, b) => (a.repository === b.repository ? cmp(a.tag, b.tag) : cmp(a.repository, b.repository)))
      .map(cloneTag);
    return Promise.resolve(tags);
  }

  setTag(repository: string, tag: string, imageId: Digest): Promise<TagRecord | undefined> {
    if (!this.images.has(imageId.hex)) return Promise.reject(new Error(`cannot tag unknown image ${imageId.toString()}`));
    const key = tagKey(repository, tag);
    const previous = this.tags.get(key);
    this.tags.set(key, { repository, tag, imageId, updatedAt: this.now() });
    return Promise.resolve(previous ? cloneTag(previous) : undefined);
  }

  deleteTag(repository: string, tag: string): Promise<void> {
    this.tags.delete(tagKey(repository, tag));
    return Promise.resolve();
  }

  isBlobReferenced(blob: Digest): Promise<boolean> {
    for (const image of this.images.values()) {
      if (image.id.equals(blob) || image.manifestDigest?.equals(blob) || image.layers.some((l) => l.blob.equals(blob))) {
        return Promise.resolve(true);
      }
    }
    return Promise.resolve(false);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
