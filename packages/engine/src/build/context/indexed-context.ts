import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";

import { ContextPathError } from "./errors";
import { cleanContextPath, joinPath, parentOf } from "./paths";
import type { BuildContext, ContextEntry } from "./types";

/** A context entry and where its bytes are on disk (files only). */
export interface IndexedEntry extends ContextEntry {
  diskPath?: string;
  /** A small file of an uploaded context, kept in memory rather than spooled to its own file. */
  content?: Buffer;
}

/** Linux's MAXSYMLINKS: more hops than this is a loop. */
const MAX_SYMLINK_HOPS = 40;

/**
 * A build context held as an index of its (not ignored) entries, with file contents on disk.
 * Both implementations (directory, uploaded tar) build one. Symlinks are resolved in the index,
 * never by the operating system, so no path can lead outside the context.
 */
export class IndexedContext implements BuildContext {
  private readonly children = new Map<string, IndexedEntry[]>();
  private closed = false;
  readonly size: number;

  constructor(
    private readonly entries: Map<string, IndexedEntry>,
    private readonly readRawFile: (path: string, maxBytes: number) => Promise<Buffer | undefined>,
    private readonly cleanup: () => Promise<void> = () => Promise.resolve(),
  ) {
    if (!entries.has("")) entries.set("", { path: "", type: "directory", mode: 0o755, size: 0, mtime: new Date(0) });
    let size = 0;
    for (const entry of entries.values()) {
      if (entry.type === "file") size += entry.size;
      if (entry.path === "") continue;
      const parent = parentOf(entry.path);
      let list = this.children.get(parent);
      if (!list) this.children.set(parent, (list = []));
      list.push(entry);
    }
    for (const list of this.children.values()) list.sort((a, b) => compareNames(a.path, b.path));
    this.size = size;
  }

  lstat(path: string): Promise<ContextEntry | undefined> {
    return attempt(() => publicEntry(this.entries.get(cleanContextPath(path))));
  }

  readdir(path: string): Promise<ContextEntry[]> {
    return attempt(() => (this.children.get(cleanContextPath(path)) ?? []).map((e) => publicEntry(e)!));
  }

  resolve(path: string): Promise<ContextEntry> {
    return attempt(() => this.resolveNow(path));
  }

  private resolveNow(path: string): ContextEntry {
    const queue = cleanContextPath(path).split("/");
    let current = "";
    let hops = 0;
    while (queue.length > 0) {
      const part = queue.shift()!;
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (current === "") throw new ContextPathError(`forbidden path outside the build context: ${path}`);
        current = parentOf(current);
        continue;
      }
      const next = joinPath(current, part);
      const entry = this.entries.get(next);
      if (!entry) throw notFound(path);
      if (entry.type === "symlink") {
        if (++hops > MAX_SYMLINK_HOPS) throw new ContextPathError(`${path}: too many levels of symbolic links`);
        const target = entry.target ?? "";
        if (target.startsWith("/") || escapes(current, target)) {
          throw new ContextPathError(`${path}: symlink ${next} -> ${target} points outside the build context`);
        }
        queue.unshift(...target.split("/"));
        continue;
      }
      if (entry.type !== "directory" && queue.some((p) => p !== "" && p !== ".")) {
        throw new ContextPathError(`${path}: ${next} is not a directory`);
      }
      current = next;
    }
    return publicEntry(this.entries.get(current))!;
  }

  walk(): AsyncIterable<ContextEntry> {
    const iterator = this.walkNow()[Symbol.iterator]();
    return { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(iterator.next()) }) };
  }

  private *walkNow(): Iterable<ContextEntry> {
    const stack = [...(this.children.get("") ?? [])].reverse();
    while (stack.length > 0) {
      const entry = stack.pop()!;
      yield publicEntry(entry)!;
      if (entry.type === "directory") stack.push(...[...(this.children.get(entry.path) ?? [])].reverse());
    }
  }

  async open(path: string): Promise<Readable> {
    const entry = this.entries.get(cleanContextPath(path));
    if (entry?.type === "file" && entry.content) return Readable.from([entry.content]);
    if (!entry || entry.type !== "file" || !entry.diskPath) throw new ContextPathError(`${path} is not a file in the build context`);
    // O_NOFOLLOW: a file swapped for a symlink after the context was indexed is refused, not followed.
    const handle = await open(entry.diskPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    return handle.createReadStream();
  }

  async readRaw(path: string, maxBytes: number): Promise<Buffer | undefined> {
    return this.readRawFile(cleanContextPath(path), maxBytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.cleanup();
  }
}

/** Runs `fn` now; its result or exception as a promise. */
function attempt<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

/** Byte-wise order, as docker's walk (Go's sort of names). */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function publicEntry(entry: IndexedEntry | undefined): ContextEntry | undefined {
  if (!entry) return undefined;
  const { diskPath: _diskPath, content: _content, ...rest } = entry;
  return rest;
}

/** True when a relative symlink target, taken from directory `dir`, climbs above the context root. */
function escapes(dir: string, target: string): boolean {
  let depth = dir === "" ? 0 : dir.split("/").length;
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    depth += part === ".." ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}

function notFound(path: string): ContextPathError {
  return new ContextPathError(`file not found in build context or excluded by .dockerignore: ${path}`);
}

/** Marks every ancestor of a kept entry as kept: docker sends the directories above an included file. */
export function withAncestors(all: Map<string, IndexedEntry>, kept: Set<string>): Map<string, IndexedEntry> {
  const result = new Map<string, IndexedEntry>();
  for (const path of kept) {
    for (let p = parentOf(path); p !== ""; p = parentOf(p)) {
      if (kept.has(p)) break;
      kept.add(p);
    }
  }
  for (const [path, entry] of all) if (path === "" || kept.has(path)) result.set(path, entry);
  return result;
}
