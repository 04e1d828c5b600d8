import { InvalidArgumentError } from "../../errors";

/** docker's whiteout markers (pkg/archive/whiteouts.go). */
export const WHITEOUT_PREFIX = ".wh.";
export const WHITEOUT_OPAQUE_DIR = ".wh..wh..opq";

/**
 * Checks a path as the layer writer takes it: relative, "/"-separated, no empty, "." or ".."
 * components. Callers normalise user input first (normalizeLayerPath); the writer refuses
 * anything else rather than guessing, so a layer never holds a path that escapes the rootfs.
 */
export function checkLayerPath(path: string, what = "layer entry"): void {
  if (path === "") throw new InvalidArgumentError(`${what}: the path is empty`);
  if (path.includes("\0")) throw new InvalidArgumentError(`${what} ${JSON.stringify(path)}: the path contains a NUL byte`);
  if (path.startsWith("/")) throw new InvalidArgumentError(`${what} ${JSON.stringify(path)}: the path must be relative to the root`);
  for (const part of path.split("/")) {
    if (part === "" || part === "." || part === "..") {
      throw new InvalidArgumentError(`${what} ${JSON.stringify(path)}: the path has an empty, "." or ".." component`);
    }
  }
}

/**
 * Normalises a path given by a user or found in a rootfs tar: leading "/" and "./", doubled and
 * trailing slashes and "." components go; ".." is refused (it could reach outside the rootfs,
 * which docker's own extraction also rejects). Returns "" for the root itself.
 */
export function normalizeLayerPath(raw: string, what = "path"): string {
  if (raw.includes("\0")) throw new InvalidArgumentError(`${what} ${JSON.stringify(raw)} contains a NUL byte`);
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new InvalidArgumentError(`${what} ${JSON.stringify(raw)} contains "..": paths must stay inside the image`);
    parts.push(part);
  }
  return parts.join("/");
}

/** Splits "a/b/c" into ["a/b", "c"] (parent "" at the root). */
export function splitPath(path: string): [string, string] {
  const i = path.lastIndexOf("/");
  return i === -1 ? ["", path] : [path.slice(0, i), path.slice(i + 1)];
}

/** The tar name of a whiteout for `path`: `dir/.wh.name`, or `path/.wh..wh..opq` when opaque. */
export function whiteoutName(path: string, opaque: boolean): string {
  if (opaque) return `${path}/${WHITEOUT_OPAQUE_DIR}`;
  const [dir, base] = splitPath(path);
  return dir ? `${dir}/${WHITEOUT_PREFIX}${base}` : `${WHITEOUT_PREFIX}${base}`;
}

/** What a tar name stands for when it is a whiteout: the path deleted (or made opaque), else undefined. */
export function parseWhiteoutName(name: string): { path: string; opaque: boolean } | undefined {
  const [dir, base] = splitPath(name);
  if (base === WHITEOUT_OPAQUE_DIR) return { path: dir, opaque: true };
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const target = base.slice(WHITEOUT_PREFIX.length);
  return { path: dir ? `${dir}/${target}` : target, opaque: false };
}
