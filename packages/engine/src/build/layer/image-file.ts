import { extract as tarExtract, type Extract, type Header } from "tar-stream";

import type { BlobStore } from "../../blob-store";
import { EngineError, InvalidArgumentError } from "../../errors";
import type { ImageRecord } from "../../metadata";
import { decompress, sniffCompression, SNIFF_BYTES } from "./decompress";
import { normalizeLayerPath, parseWhiteoutName } from "./paths";

/** One path of an image's filesystem as its layers leave it. */
export interface ImageFile {
  path: string;
  type: "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size: number;
  /** Symlink target; for a hard link, the path it shares content with. */
  target?: string;
  /** A regular file's bytes (a hard link's, for a link), when not larger than `maxBytes`. */
  content?: Buffer;
  /** The file is larger than `maxBytes`: no content returned. */
  tooLarge?: boolean;
}

/** What one layer says about the path: there (last entry wins), deleted (for the layers below), or nothing. */
type LayerVerdict = { kind: "found"; file: ImageFile } | { kind: "hidden" } | { kind: "absent" };

/**
 * Reads one path of an image (for the dashboard's file editor): layers are scanned from the top,
 * honouring whiteouts and opaque directories as the overlay filesystem does. Symlinks are not
 * followed (the entry itself is returned); a symlinked parent directory is not resolved either.
 * Returns undefined when the path does not exist.
 */
export async function readImageFile(
  store: BlobStore,
  image: ImageRecord,
  rawPath: string,
  maxBytes: number,
): Promise<ImageFile | undefined> {
  const path = normalizeLayerPath(rawPath, "path");
  if (path === "") throw new InvalidArgumentError("name a file, not the root directory");
  for (let i = image.layers.length - 1; i >= 0; i--) {
    const verdict = await scanLayer(store, image, i, path, maxBytes);
    if (verdict.kind === "found") {
      const { file } = verdict;
      if (file.type !== "link" || file.target === undefined) return file;
      // A hard link shares the content of an earlier entry of the same layer.
      const linked = await scanLayer(store, image, i, file.target, maxBytes);
      return linked.kind === "found" ? { ...linked.file, path: file.path, type: "link", target: file.target } : file;
    }
    if (verdict.kind === "hidden") return undefined;
  }
  return undefined;
}

async function scanLayer(store: BlobStore, image: ImageRecord, index: number, path: string, maxBytes: number): Promise<LayerVerdict> {
  const layer = image.layers[index]!;
  const what = `layer ${index} (${layer.blob.toString()})`;
  const blob = await store.open(layer.blob);
  const extract = tarExtract();
  const members = (extract as AsyncIterable<AsyncIterable<Buffer> & { header: Header }>)[Symbol.asyncIterator]();
  const feeding = (async () => {
    const source = blob[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await source.next();
    const head = first.done ? Buffer.alloc(0) : first.value;
    const compression = sniffCompression(head.subarray(0, SNIFF_BYTES), what);
    const raw = (async function* () {
      if (!first.done) yield first.value;
      for (let r = await source.next(); !r.done; r = await source.next()) yield r.value;
    })();
    for await (const chunk of decompress(raw, compression, what)) {
      if (extract.destroying) break;
      if (!extract.write(chunk)) await drainedOrClosed(extract);
    }
    extract.end(undefined);
  })().catch((err: unknown) => extract.destroy(err as Error));

  let verdict: LayerVerdict = { kind: "absent" };
  try {
    for (let next = await members.next(); !next.done; next = await members.next()) {
      const member = next.value;
      const name = safeName(member.header.name);
      const whiteout = name === undefined ? undefined : parseWhiteoutName(name);
      if (name === path) {
        verdict = { kind: "found", file: await toFile(member, path, maxBytes) };
        continue;
      }
      // A whiteout of the path or an ancestor, an opaque ancestor, or an ancestor replaced by something
      // that is not a directory hides the layers below.
      const replaced = name !== undefined && path.startsWith(`${name}/`) && member.header.type !== "directory";
      if (verdict.kind === "absent" && ((whiteout && covers(whiteout, path)) || replaced)) verdict = { kind: "hidden" };
      for await (const chunk of member) void chunk;
    }
  } finally {
    blob.destroy();
    extract.destroy();
    await feeding;
  }
  return verdict;
}

function covers(whiteout: { path: string; opaque: boolean }, path: string): boolean {
  if (whiteout.opaque) return path.startsWith(`${whiteout.path}/`);
  return path === whiteout.path || path.startsWith(`${whiteout.path}/`);
}

async function toFile(member: AsyncIterable<Buffer> & { header: Header }, path: string, maxBytes: number): Promise<ImageFile> {
  const h = member.header;
  if (
    h.type !== "file" &&
    h.type !== "contiguous-file" &&
    h.type !== "directory" &&
    h.type !== "symlink" &&
    h.type !== "link" &&
    h.type !== "character-device" &&
    h.type !== "block-device" &&
    h.type !== "fifo"
  ) {
    throw new EngineError("INVALID_ARGUMENT", `${path} is a ${String(h.type)} entry`);
  }
  const type = h.type === "contiguous-file" ? "file" : h.type;
  const file: ImageFile = { path, type, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, mtime: h.mtime, size: h.size };
  if (type === "symlink") file.target = h.linkname ?? "";
  if (type === "link") file.target = safeName(h.linkname ?? "");
  if (type === "file" && h.size > maxBytes) file.tooLarge = true;
  const chunks: Buffer[] = [];
  for await (const chunk of member) if (type === "file" && !file.tooLarge) chunks.push(chunk);
  if (type === "file" && !file.tooLarge) file.content = Buffer.concat(chunks);
  return file;
}

/** A member name normalised like the import does; undefined for names that could not be in a layer. */
function safeName(name: string): string | undefined {
  try {
    return normalizeLayerPath(name);
  } catch {
    return undefined;
  }
}

/** Resolves when the parser takes more input, or when it was closed (then the feeding loop ends on its own). */
function drainedOrClosed(extract: Extract): Promise<void> {
  return new Promise((resolve) => {
    if (extract.destroying) return resolve();
    const done = () => {
      extract.off("drain", done);
      extract.off("close", done);
      resolve();
    };
    extract.once("drain", done);
    extract.once("close", done);
  });
}
