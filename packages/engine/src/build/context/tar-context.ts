import { createWriteStream } from "node:fs";
import { link, mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { describeTarError, openTarInput, type TarEntry } from "../../archive/tar-input";
import { ContextTooLargeError, InvalidContextError } from "./errors";
import { loadIgnore } from "./directory-context";
import { IndexedContext, type IndexedEntry, withAncestors } from "./indexed-context";
import { parentOf } from "./paths";
import { type BuildContext, type ContextOptions, DEFAULT_MAX_CONTEXT_BYTES } from "./types";

export interface TarContextOptions extends ContextOptions {
  /** Where the spool directory is made (default: the OS temp directory). */
  tmpDir?: string;
}

/** Most members a context tar may have: beyond, it is a forgotten .dockerignore or an attack. */
const MAX_MEMBERS = 1_000_000;
/**
 * Files up to this size are kept in memory, up to IN_MEMORY_BYTES in all: a context of thousands
 * of small sources then costs no file creation each (spooling them took ~1 ms per file).
 */
const SMALL_FILE_BYTES = 64 * 1024;
const IN_MEMORY_BYTES = 32 * 1024 * 1024;

interface FullHeader {
  name: string;
  size: number;
  type: string;
  linkname?: string | null;
  mode?: number;
  mtime?: Date;
}

/**
 * A build context from an uploaded tar (plain or gzip), as `docker build -` or the API sends it.
 * Files are spooled to a private temporary directory under numbered names, so no member name
 * or symlink can make the extraction write outside it; names with ".." are refused. Symlinks
 * live only in the index. Stops with ContextTooLargeError once the files add up to maxBytes.
 */
export async function openTarContext(input: Readable, options: TarContextOptions = {}): Promise<BuildContext> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CONTEXT_BYTES;
  const spool = await mkdtemp(join(options.tmpDir ?? tmpdir(), "berth-context-"));
  const cleanup = () => rm(spool, { recursive: true, force: true });
  try {
    await mkdir(join(spool, "files"));
    const all = await spoolTar(input, spool, maxBytes, options.signal);
    const readRawFile = async (path: string, max: number): Promise<Buffer | undefined> => {
      const entry = all.get(path);
      if (entry?.type === "file" && entry.size > max)
        throw new InvalidContextError(`${path} is ${entry.size} bytes, more than the ${max} allowed`);
      if (entry?.type === "file" && entry.content) return entry.content;
      if (!entry || entry.type !== "file" || !entry.diskPath) return undefined;
      const handle = await open(entry.diskPath, "r");
      try {
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    };
    const matcher = await loadIgnore(readRawFile, options);
    const kept = new Set<string>();
    for (const entry of all.values()) if (entry.type !== "directory" && !matcher.ignores(entry.path)) kept.add(entry.path);
    for (const entry of all.values()) if (entry.type === "directory" && !matcher.ignores(entry.path)) kept.add(entry.path);
    return new IndexedContext(withAncestors(all, kept), readRawFile, cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function spoolTar(input: Readable, spool: string, maxBytes: number, signal?: AbortSignal): Promise<Map<string, IndexedEntry>> {
  const tar = openTarInput(input);
  const all = new Map<string, IndexedEntry>();
  let total = 0;
  let inMemory = 0;
  let count = 0;
  let last: string | undefined;
  let inside: string | undefined;
  try {
    for await (const member of tar.entries) {
      signal?.throwIfAborted();
      const header = member.header as FullHeader;
      inside = header.name;
      if (++count > MAX_MEMBERS) throw new InvalidContextError(`more than ${MAX_MEMBERS} members`);
      const path = memberPath(header.name);
      const base = { path, mode: (header.mode ?? 0o644) & 0o7777, mtime: header.mtime ?? new Date(0) };
      if (header.type === "file" || header.type === "contiguous-file") {
        total += header.size;
        if (total > maxBytes) throw new ContextTooLargeError(maxBytes);
        if (header.size <= SMALL_FILE_BYTES && inMemory + header.size <= IN_MEMORY_BYTES) {
          const chunks: Buffer[] = [];
          for await (const chunk of member) chunks.push(chunk);
          inMemory += header.size;
          if (path !== "") set(all, { ...base, type: "file", size: header.size, content: Buffer.concat(chunks) });
        } else {
          const diskPath = join(spool, "files", String(count));
          await pipeline(member, createWriteStream(diskPath, { flags: "wx", mode: 0o600 }));
          if (path !== "") set(all, { ...base, type: "file", size: header.size, diskPath });
        }
      } else {
        await drain(member);
        if (path === "") continue;
        if (header.type === "directory") set(all, { ...base, type: "directory", size: 0 });
        else if (header.type === "symlink") set(all, { ...base, type: "symlink", size: 0, target: header.linkname ?? "" });
        else if (header.type === "link") {
          const target = all.get(memberPath(header.linkname ?? ""));
          if (target?.type === "file" && target.content) {
            set(all, { ...base, type: "file", size: target.size, content: target.content });
            last = header.name;
            inside = undefined;
            continue;
          }
          if (!target || target.type !== "file" || !target.diskPath) {
            throw new InvalidContextError(
              `hard link ${header.name} points to ${header.linkname ?? ""}, which is not an earlier file of the archive`,
            );
          }
          const diskPath = join(spool, "files", String(count));
          await link(target.diskPath, diskPath);
          set(all, { ...base, type: "file", size: target.size, diskPath });
        }
        // Devices, fifos and sockets are not build inputs: skipped, as docker's context never holds them.
      }
      last = header.name;
      inside = undefined;
    }
    await tar.done;
  } catch (err) {
    tar.close();
    throw describeTarError(err, { inside, after: last });
  }
  return all;
}

function drain(member: TarEntry): Promise<void> {
  return (async () => {
    for await (const _ of member) {
      // discard
    }
  })();
}

/** Adds an entry, making the directories above it when the tar has no member for them. */
function set(all: Map<string, IndexedEntry>, entry: IndexedEntry): void {
  for (let p = parentOf(entry.path); p !== "" && !all.has(p); p = parentOf(p)) {
    all.set(p, { path: p, type: "directory", mode: 0o755, size: 0, mtime: new Date(0) });
  }
  all.set(entry.path, entry);
}

function memberPath(name: string): string {
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new InvalidContextError(`member ${JSON.stringify(name)} contains "..": it would land outside the context`);
    parts.push(part);
  }
  return parts.join("/");
}
