import { lstat, open, readdir, readlink, realpath } from "node:fs/promises";
import { join, sep } from "node:path";

import { ContextPathError, ContextTooLargeError } from "./errors";
import { type IgnoreMatcher, NO_IGNORE, parseDockerignore } from "./dockerignore";
import { IndexedContext, type IndexedEntry, withAncestors } from "./indexed-context";
import { cleanContextPath, joinPath } from "./paths";
import { type BuildContext, type ContextOptions, DEFAULT_MAX_CONTEXT_BYTES } from "./types";

/** Largest .dockerignore read. */
const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

/**
 * A build context over a directory, as `docker build DIR` sends it: .dockerignore applied
 * (`<dockerfile>.dockerignore` first), symlinks kept as links, sockets and devices left out.
 * Excluded directories are not descended into unless a `!` line might re-include something.
 */
export async function openDirectoryContext(dir: string, options: ContextOptions = {}): Promise<BuildContext> {
  const root = await realpath(dir);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CONTEXT_BYTES;
  const readRawFile = (path: string, max: number) => readInside(root, path, max);
  const matcher = await loadIgnore(readRawFile, options);

  const all = new Map<string, IndexedEntry>();
  const kept = new Set<string>();
  let total = 0;
  const visit = async (rel: string): Promise<void> => {
    options.signal?.throwIfAborted();
    const names = (await readdir(join(root, rel)).catch((err: unknown) => unreadable(rel, err))).sort();
    for (const name of names) {
      const path = joinPath(rel, name);
      const diskPath = join(root, path);
      const st = await lstat(diskPath).catch((err: unknown) => unreadable(path, err));
      const ignored = matcher.ignores(path);
      const base = { path, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isDirectory()) {
        if (ignored && !matcher.hasExceptions) continue;
        all.set(path, { ...base, type: "directory", size: 0 });
        if (!ignored) kept.add(path);
        await visit(path);
      } else if (st.isFile() || st.isSymbolicLink()) {
        if (ignored) continue;
        const entry: IndexedEntry = st.isFile()
          ? { ...base, type: "file", size: st.size, diskPath }
          : { ...base, type: "symlink", size: 0, target: await readlink(diskPath) };
        total += entry.size;
        if (total > maxBytes) throw new ContextTooLargeError(maxBytes);
        all.set(path, entry);
        kept.add(path);
      }
    }
  };
  await visit("");
  const rootStat = await lstat(root);
  all.set("", { path: "", type: "directory", mode: rootStat.mode & 0o7777, size: 0, mtime: rootStat.mtime });
  return new IndexedContext(withAncestors(all, kept), readRawFile);
}

/** A directory or file the walk cannot read: named, so the user knows what to fix or ignore. */
function unreadable(path: string, err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  throw new ContextPathError(`cannot read ${path === "" ? "the build context" : path} in the build context: ${e.code ?? e.message}`);
}

/** Reads the .dockerignore that applies (BuildKit prefers `<Dockerfile path>.dockerignore`). */
export async function loadIgnore(
  readRawFile: (path: string, maxBytes: number) => Promise<Buffer | undefined>,
  options: ContextOptions,
): Promise<IgnoreMatcher> {
  let text: Buffer | undefined;
  if (options.dockerfilePath) text = await readRawFile(`${cleanContextPath(options.dockerfilePath)}.dockerignore`, MAX_IGNORE_FILE_BYTES);
  text ??= await readRawFile(".dockerignore", MAX_IGNORE_FILE_BYTES);
  if (text === undefined && !options.ignorePatterns?.length) return NO_IGNORE;
  return parseDockerignore(text?.toString("utf8") ?? "", options.ignorePatterns);
}

/** Reads a file of the directory whole, following symlinks only while they stay inside it. */
async function readInside(root: string, path: string, maxBytes: number): Promise<Buffer | undefined> {
  let real: string;
  try {
    real = await realpath(join(root, path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (real !== root && !real.startsWith(root + sep)) throw new ContextPathError(`${path} points outside the build context`);
  const handle = await open(real, "r");
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ContextPathError(`${path} is not a file`);
    if (st.size > maxBytes) throw new ContextPathError(`${path} is ${st.size} bytes, more than the ${maxBytes} allowed`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
