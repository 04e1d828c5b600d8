import type { Digest } from "../../digest";
import type { BuildCache } from "./types";

/** A BuildCache in memory, for tests and single-process use. */
export class MemoryBuildCache implements BuildCache {
  private readonly entries = new Map<string, Digest>();

  get(key: string): Promise<Digest | undefined> {
    return Promise.resolve(this.entries.get(key));
  }

  put(key: string, imageId: Digest): Promise<void> {
    this.entries.set(key, imageId);
    return Promise.resolve();
  }

  get size(): number {
    return this.entries.size;
  }
}
