import { createWriteStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { extract as tarExtract } from "tar-stream";

import type { BlobStore } from "../../blob-store";
import { InvalidArgumentError } from "../../errors";
import type { LayerRecord } from "../../metadata";
import type { LayerEntry } from "../layer/entries";
import { parseWhiteoutName } from "../layer/paths";
import { decompressed } from "./decompressed";

/** A file, directory or symlink of an image's filesystem, and the layer member holding it. */
export interface FsNode {
  type: "file" | "directory" | "symlink";
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size: number;
  target?: string;
  /** Where the bytes are: the layer blob and the member name in it (files only). */
  layer?: LayerRecord;
  member?: string;
  /**
   * For a file this build wrote: where its bytes came from (the context, a spooled file), valid
   * until the build ends, so `COPY --from` a stage of the same build need not read them back out
   * of the gzip layer.
   */
  source?: () => Readable | Promise<Readable>;
  children?: Map<string, FsNode>;
}

/** What one layer does to the layers below it. */
export interface LayerChanges {
  /** Directories whose lower contents are hidden (`.wh..wh..opq`). */
  opaque: string[];
  /** Paths deleted (`.wh.name`). */
  whiteouts: string[];
  /** Paths added or replaced, in tar order. */
  entries: { path: string; node: FsNode }[];
}

const MAX_SYMLINK_HOPS = 40;

/**
 * An image's merged filesystem (metadata only), from its layers' tar headers: what COPY needs to
 * know about the destination (does it exist, is it a directory, symlinks on the way), the users
 * and groups of --chown, and the files `COPY --from` reads (read back from the layer blobs).
 */
export class ImageFilesystem {
  private constructor(private readonly root: FsNode) {}

  static empty(): ImageFilesystem {
    return new ImageFilesystem(dirNode());
  }

  static fromChanges(layers: LayerChanges[]): ImageFilesystem {
    const fs = ImageFilesystem.empty();
    for (const changes of layers) fs.apply(changes);
    return fs;
  }

  /** A copy with one more layer on top. */
  withLayer(changes: LayerChanges): ImageFilesystem {
    const copy = new ImageFilesystem(cloneTree(this.root));
    copy.apply(changes);
    return copy;
  }

  private apply(changes: LayerChanges): void {
    for (const dir of changes.opaque) {
      const node = this.lookup(dir);
      if (node?.children) node.children.clear();
    }
    for (const path of changes.whiteouts) this.remove(path);
    for (const { path, node } of changes.entries) {
      const parent = this.mkdirs(parentOf(path));
      const name = baseName(path);
      const existing = parent.children!.get(name);
      // A directory over a directory keeps what lower layers put inside it (overlay semantics).
      if (node.type === "directory" && existing?.type === "directory") {
        parent.children!.set(name, { ...node, children: existing.children });
      } else {
        parent.children!.set(name, node.type === "directory" ? { ...node, children: new Map() } : node);
      }
    }
  }

  /** The node at a path, without following symlinks. */
  lookup(path: string): FsNode | undefined {
    let node: FsNode | undefined = this.root;
    for (const part of splitParts(path)) {
      node = node?.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /**
   * Resolves a path as the container would see it: symlinks followed (absolute targets from
   * the image root, ".." stopping at the root), the last one only when followLast. Missing
   * components are kept as they are, so the result is where a new file would go.
   */
  resolve(path: string, followLast = true): { path: string; node: FsNode | undefined } {
    const queue = splitParts(path);
    let current: string[] = [];
    let hops = 0;
    while (queue.length > 0) {
      const part = queue.shift()!;
      if (part === ".") continue;
      if (part === "..") {
        current.pop();
        continue;
      }
      const next = [...current, part];
      const node = this.lookup(next.join("/"));
      if (node?.type === "symlink" && (queue.length > 0 || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) throw new InvalidArgumentError(`${path}: too many levels of symbolic links in the image`);
        const target = node.target ?? "";
        if (target.startsWith("/")) current = [];
        queue.unshift(...splitParts(target));
        continue;
      }
      current = next;
    }
    const resolved = current.join("/");
    return { path: resolved, node: resolved === "" ? this.root : this.lookup(resolved) };
  }

  /** Entries below a directory node, parents before children, names sorted. */
  *walk(dir: FsNode, prefix: string): Iterable<{ path: string; node: FsNode }> {
    const names = [...(dir.children?.keys() ?? [])].sort();
    for (const name of names) {
      const node = dir.children!.get(name)!;
      const path = prefix === "" ? name : `${prefix}/${name}`;
      yield { path, node };
      if (node.type === "directory") yield* this.walk(node, path);
    }
  }

  private remove(path: string): void {
    const parent = this.lookup(parentOf(path));
    parent?.children?.delete(baseName(path));
  }

  private mkdirs(path: string): FsNode {
    let node = this.root;
    for (const part of splitParts(path)) {
      let child = node.children!.get(part);
      if (!child || child.type !== "directory") {
        child = dirNode();
        node.children!.set(part, child);
      }
      node = child;
    }
    return node;
  }
}

function dirNode(): FsNode {
  return { type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: new Date(0), size: 0, children: new Map() };
}

function cloneTree(node: FsNode): FsNode {
  if (!node.children) return node;
  const children = new Map<string, FsNode>();
  for (const [name, child] of node.children) children.set(name, cloneTree(child));
  return { ...node, children };
}

export function splitParts(path: string): string[] {
  return path.split("/").filter((p) => p !== "" && p !== ".");
}

function parentOf(path: string): string {
  const parts = splitParts(path);
  parts.pop();
  return parts.join("/");
}

function baseName(path: string): string {
  const parts = splitParts(path);
  return parts[parts.length - 1] ?? "";
}

// ------------------------------------------------------------------ reading layers --

/** What tar-stream's extract gives for a member (size always set), as the build reads it. */
export interface TarHeader {
  name: string;
  type: string;
  size: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string | null;
}

type TarMember = AsyncIterable<Buffer> & { header: TarHeader };

/** Streams a layer blob's tar members (gzip or plain, told apart by the magic number). */
async function* layerMembers(store: BlobStore, layer: LayerRecord, signal?: AbortSignal): AsyncIterable<TarMember> {
  const blob = await store.open(layer.blob);
  const extract = tarExtract();
  const feeding = (async () => {
    const { bytes } = await decompressed(blob, `layer ${layer.blob.toString()}`);
    await pipeline(Readable.from(bytes), extract);
  })();
  feeding.catch((err: unknown) => extract.destroy(err as Error));
  try {
    for await (const member of extract as unknown as AsyncIterable<TarMember>) {
      signal?.throwIfAborted();
      yield member;
    }
    await feeding;
  } catch (err) {
    throw new InvalidArgumentError(`reading layer ${layer.blob.toString()} failed: ${(err as Error).message}`);
  } finally {
    blob.destroy();
    extract.destroy();
  }
}

async function drain(member: TarMember): Promise<void> {
  for await (const _ of member) {
    // discard
  }
}

function cleanMember(name: string): string {
  return splitParts(name)
    .filter((p) => p !== "..")
    .join("/");
}

/** The changes a stored layer makes, from its tar headers. */
export async function scanLayer(store: BlobStore, layer: LayerRecord, signal?: AbortSignal): Promise<LayerChanges> {
  const changes: LayerChanges = { opaque: [], whiteouts: [], entries: [] };
  const inLayer = new Map<string, FsNode>();
  for await (const member of layerMembers(store, layer, signal)) {
    await drain(member);
    const h = member.header;
    const path = cleanMember(h.name);
    if (path === "") continue;
    const whiteout = parseWhiteoutName(path);
    if (whiteout) {
      (whiteout.opaque ? changes.opaque : changes.whiteouts).push(whiteout.path);
      continue;
    }
    const base = { mode: (h.mode ?? 0o644) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime ?? new Date(0) };
    let node: FsNode | undefined;
    if (h.type === "file" || h.type === "contiguous-file") node = { ...base, type: "file", size: h.size, layer, member: h.name };
    else if (h.type === "directory") node = { ...base, type: "directory", size: 0 };
    else if (h.type === "symlink") node = { ...base, type: "symlink", size: 0, target: h.linkname ?? "" };
    else if (h.type === "link") {
      const target = inLayer.get(cleanMember(h.linkname ?? ""));
      if (target) node = { ...target, ...base };
    }
    if (!node) continue;
    inLayer.set(path, node);
    changes.entries.push({ path, node });
  }
  return changes;
}

/** The changes of a layer this build wrote, from the entries given to the writer (no need to read it back). */
export function changesFromEntries(entries: LayerEntry[], layer: LayerRecord): LayerChanges {
  const changes: LayerChanges = { opaque: [], whiteouts: [], entries: [] };
  const inLayer = new Map<string, FsNode>();
  for (const entry of entries) {
    if (entry.type === "whiteout") {
      (entry.opaque ? changes.opaque : changes.whiteouts).push(entry.path);
      continue;
    }
    const base = { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime };
    let node: FsNode | undefined;
    if (entry.type === "file") node = { ...base, type: "file", size: entry.size, layer, member: entry.path, source: () => entry.open() };
    else if (entry.type === "directory") node = { ...base, type: "directory", size: 0 };
    else if (entry.type === "symlink") node = { ...base, type: "symlink", size: 0, target: entry.target };
    else node = inLayer.get(entry.target);
    if (!node) continue;
    inLayer.set(entry.path, node);
    changes.entries.push({ path: entry.path, node });
  }
  return changes;
}

/** Files up to this size are read into memory, up to EXTRACT_IN_MEMORY_BYTES per call; the rest are spooled. */
const EXTRACT_SMALL_FILE_BYTES = 64 * 1024;
const EXTRACT_IN_MEMORY_BYTES = 32 * 1024 * 1024;

/**
 * Copies the bytes of file nodes out of their layer blobs (one read of each layer involved):
 * small files into memory, the others into files under `dir` (one file each, which cost ~1 ms per
 * file for a tree of thousands). Returns, for each node, its bytes or the file they were written to.
 */
export async function extractFiles(
  store: BlobStore,
  nodes: FsNode[],
  dir: string,
  signal?: AbortSignal,
): Promise<Map<FsNode, string | Buffer>> {
  const byLayer = new Map<string, { layer: LayerRecord; wanted: Map<string, FsNode[]> }>();
  for (const node of nodes) {
    if (node.type !== "file" || !node.layer || node.member === undefined) continue;
    const key = node.layer.blob.hex;
    let group = byLayer.get(key);
    if (!group) byLayer.set(key, (group = { layer: node.layer, wanted: new Map() }));
    const list = group.wanted.get(node.member) ?? [];
    list.push(node);
    group.wanted.set(node.member, list);
  }
  const files = new Map<FsNode, string | Buffer>();
  let spool: string | undefined;
  let inMemory = 0;
  let n = 0;
  for (const { layer, wanted } of byLayer.values()) {
    for await (const member of layerMembers(store, layer, signal)) {
      const list = wanted.get(member.header.name);
      if (!list) {
        await drain(member);
        continue;
      }
      // A name written twice in one tar: the later copy overwrites, as extraction would leave it.
      let where: string | Buffer;
      if (member.header.size <= EXTRACT_SMALL_FILE_BYTES && inMemory + member.header.size <= EXTRACT_IN_MEMORY_BYTES) {
        const chunks: Buffer[] = [];
        for await (const chunk of member) chunks.push(chunk);
        where = Buffer.concat(chunks);
        inMemory += where.byteLength;
      } else {
        // A directory of its own per call: files spooled by an earlier call stay valid.
        spool ??= await mkdtemp(join(dir, "from-"));
        where = join(spool, String(n++));
        await pipeline(member, createWriteStream(where, { mode: 0o600 }));
      }
      for (const node of list) files.set(node, where);
    }
  }
  for (const node of nodes) {
    if (node.type === "file" && !files.has(node)) throw new InvalidArgumentError(`file ${node.member ?? "?"} is missing from its layer`);
  }
  return files;
}
