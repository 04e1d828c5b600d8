import type { Digest, ImageRecord, MetadataStore, TagRecord } from "@berth/engine";
import type { PrismaClient } from "./client";
import { PrismaMetadataStore } from "./metadata-store";

interface Snapshot {
  version: bigint;
  images: Promise<ImageRecord[]>;
  tags: Promise<TagRecord[]>;
}

/**
 * A read-only MetadataStore for listings: the full image and tag lists are kept in memory
 * and reloaded only when `store_state.version` (bumped by triggers in the same transaction as
 * any change) moved. Correct across replicas: every call checks the committed version first.
 * Writes must not go through it; operations that write use a PrismaMetadataStore on their
 * transaction.
 */
export class CachedMetadataReads implements MetadataStore {
  private readonly store: PrismaMetadataStore;
  private snapshot?: Snapshot;

  constructor(private readonly db: PrismaClient) {
    this.store = new PrismaMetadataStore(db);
  }

  /** The committed store version: changes whenever images, layers or tags change. */
  async version(): Promise<bigint> {
    const [row] = await this.db.$queryRaw<{ version: bigint }[]>`SELECT version FROM store_state WHERE id = 1`;
    return row?.version ?? -1n;
  }

  private async current(): Promise<Snapshot> {
    const version = await this.version();
    if (this.snapshot?.version !== version) {
      const snapshot: Snapshot = { version, images: this.store.listImages(), tags: this.store.listTags() };
      // A failed load must not stay cached.
      Promise.all([snapshot.images, snapshot.tags]).catch(() => {
        if (this.snapshot === snapshot) this.snapshot = undefined;
      });
      this.snapshot = snapshot;
    }
    return this.snapshot;
  }

  async listImages(): Promise<ImageRecord[]> {
    return (await this.current()).images;
  }

  async listTags(filter?: { imageId?: Digest; repository?: string }): Promise<TagRecord[]> {
    if (filter?.imageId || filter?.repository) return this.store.listTags(filter);
    return (await this.current()).tags;
  }

  getImage(id: Digest) {
    return this.store.getImage(id);
  }
  findImageIds(hexPrefix: string, limit: number) {
    return this.store.findImageIds(hexPrefix, limit);
  }
  getTag(repository: string, tag: string) {
    return this.store.getTag(repository, tag);
  }
  isBlobReferenced(blob: Digest) {
    return this.store.isBlobReferenced(blob);
  }

  imagesInIndexes() {
    return this.store.imagesInIndexes();
  }
  isImageInTaggedIndex(id: Digest) {
    return this.store.isImageInTaggedIndex(id);
  }

  putImage(): Promise<boolean> {
    return Promise.reject(new Error("CachedMetadataReads is read-only"));
  }
  updateImage(): Promise<void> {
    return Promise.reject(new Error("CachedMetadataReads is read-only"));
  }
  deleteImage(): Promise<void> {
    return Promise.reject(new Error("CachedMetadataReads is read-only"));
  }
  setTag(): Promise<TagRecord | undefined> {
    return Promise.reject(new Error("CachedMetadataReads is read-only"));
  }
  deleteTag(): Promise<void> {
    return Promise.reject(new Error("CachedMetadataReads is read-only"));
  }
}
