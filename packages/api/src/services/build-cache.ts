import { Digest, type BuildCache } from "@berth/engine";
import type { DbClient } from "@berth/db";

/** The classic builder's step cache, shared by every replica: step key → the image it produced. */
export class PrismaBuildCache implements BuildCache {
  constructor(private readonly db: DbClient) {}

  async get(key: string): Promise<Digest | undefined> {
    const row = await this.db.buildCacheEntry.findUnique({ where: { key }, select: { imageId: true } });
    return row ? Digest.tryParse(row.imageId) : undefined;
  }

  async put(key: string, imageId: Digest): Promise<void> {
    await this.db.buildCacheEntry.upsert({
      where: { key },
      create: { key, imageId: imageId.toString() },
      update: { imageId: imageId.toString(), createdAt: new Date() },
    });
  }
}
