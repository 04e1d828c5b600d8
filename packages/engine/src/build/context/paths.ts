import { ContextPathError } from "./errors";

/**
 * Cleans a path given in a Dockerfile (a COPY source) to a context-relative one, like Go's
 * path.Clean: "." and empty components go, ".." removes the previous one. A leading "/" means
 * the context root, where ".." stops (as docker does); a relative path whose ".." climbs above
 * the root is outside the context: ContextPathError.
 */
export function cleanContextPath(raw: string): string {
  if (raw.includes("\0")) throw new ContextPathError(`path ${JSON.stringify(raw)} contains a NUL byte`);
  const rooted = raw.startsWith("/");
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0) parts.pop();
      else if (!rooted) throw new ContextPathError(`forbidden path outside the build context: ${raw}`);
      continue;
    }
    parts.push(part);
  }
  return parts.join("/");
}

/** True when a COPY source is a pattern: an unescaped `*`, `?` or `[` (moby's containsWildcards). */
export function hasWildcard(source: string): boolean {
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "\\") i++;
    else if (ch === "*" || ch === "?" || ch === "[") return true;
  }
  return false;
}

export function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i === -1 ? "" : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
