import type { DirectoryEntry, LayerEntry } from "../layer/entries";
import type { ImageFilesystem } from "./image-fs";
import { splitParts } from "./image-fs";

/**
 * The entries of one layer being planned, in tar order: every directory above an entry comes
 * first (as in docker's diffs), a path written twice keeps its first position and its last value.
 */
export class LayerPlan {
  private readonly entries = new Map<string, LayerEntry>();

  constructor(
    private readonly fs: ImageFilesystem,
    /** Metadata for a directory the step creates above what it copies (docker: 0755, root or the --chown owner). */
    private readonly newDir: (path: string) => DirectoryEntry,
  ) {}

  /** Adds the directories above `path`: existing ones with their metadata unchanged, missing ones new. */
  parents(path: string): void {
    const parts = splitParts(path);
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (this.entries.has(dir)) continue;
      const node = this.fs.lookup(dir);
      if (node && node.type !== "directory") {
        throw new Error(`cannot copy to /${path}: /${dir} is not a directory in the image`);
      }
      this.entries.set(
        dir,
        node ? { type: "directory", path: dir, mode: node.mode, uid: node.uid, gid: node.gid, mtime: node.mtime } : this.newDir(dir),
      );
    }
  }

  /** A directory the step writes into: kept as it is when the image has it, else `created`. */
  ensureDir(path: string, created: DirectoryEntry): void {
    if (this.entries.has(path)) return;
    const node = this.fs.lookup(path);
    if (node && node.type !== "directory") throw new Error(`cannot copy to /${path}: it is not a directory in the image`);
    this.parents(path);
    this.entries.set(path, node ? { type: "directory", path, mode: node.mode, uid: node.uid, gid: node.gid, mtime: node.mtime } : created);
  }

  add(entry: LayerEntry): void {
    this.parents(entry.path);
    this.entries.set(entry.path, entry);
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }

  list(): LayerEntry[] {
    return [...this.entries.values()];
  }
}
