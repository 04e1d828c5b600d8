import type { Readable } from "node:stream";

/** One file, directory or symlink of a build context, as COPY sees it. */
export interface ContextEntry {
  /** Relative, "/"-separated, no "./" ("" is the context root). */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits with setuid/setgid/sticky (e.g. 0o644). */
  mode: number;
  /** Bytes of a file; 0 for the others. */
  size: number;
  mtime: Date;
  /** Symlink target, as written. */
  target?: string;
}

/**
 * The files a build may read: a directory or an uploaded tar, with `.dockerignore` applied.
 * Paths are relative to the context root; nothing outside it is reachable, not even through a
 * symlink (resolve refuses such paths with ContextPathError).
 */
export interface BuildContext {
  /** The entry at `path` without following a final symlink; undefined when absent or excluded by .dockerignore. */
  lstat(path: string): Promise<ContextEntry | undefined>;
  /** Children of a directory, sorted by name. */
  readdir(path: string): Promise<ContextEntry[]>;
  /**
   * Follows symlinks inside the context (a symlink's absolute or `..` target that leaves the
   * context is an error, like a path with `..` reaching above the root). Throws ContextPathError
   * when the path is outside the context, escapes it, or does not exist.
   */
  resolve(path: string): Promise<ContextEntry>;
  /** Every entry (root excluded), parents before children, names sorted. */
  walk(): AsyncIterable<ContextEntry>;
  /** Contents of a file entry (as returned by lstat/resolve/walk). */
  open(path: string): Promise<Readable>;
  /**
   * Reads a file whole, ignoring .dockerignore (docker always sends the Dockerfile); undefined
   * when absent. Throws when larger than maxBytes.
   */
  readRaw(path: string, maxBytes: number): Promise<Buffer | undefined>;
  /** Total bytes of the files the build can see. */
  readonly size: number;
  /** Removes what the context spooled to disk. Safe to call twice. */
  close(): Promise<void>;
}

export interface ContextOptions {
  /** Refuse a context whose files add up to more (ContextTooLargeError). Default DEFAULT_MAX_CONTEXT_BYTES. */
  maxBytes?: number;
  /**
   * Path of the Dockerfile in the context: `<dockerfile>.dockerignore` is preferred over
   * `.dockerignore` when present, as BuildKit does.
   */
  dockerfilePath?: string;
  /** Extra ignore patterns, applied after the .dockerignore file's. */
  ignorePatterns?: string[];
  signal?: AbortSignal;
}

/** 2 GiB: larger contexts are almost always a forgotten .dockerignore (node_modules, .git, build output). */
export const DEFAULT_MAX_CONTEXT_BYTES = 2 * 1024 * 1024 * 1024;
