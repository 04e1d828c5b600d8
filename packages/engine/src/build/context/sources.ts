import { pathMatch } from "../../reference";
import { ContextPathError } from "./errors";
import { baseName, cleanContextPath, hasWildcard } from "./paths";
import type { BuildContext, ContextEntry } from "./types";

/** A COPY source found in the context: the name it is copied under and what it is (symlinks followed). */
export interface MatchedSource {
  /** Base name of the path as matched ("" for the context root). */
  name: string;
  /** The entry after following symlinks: a file or a directory. */
  entry: ContextEntry;
}

/**
 * Expands one COPY/ADD source like docker: a path (symlinks followed inside the context), or a
 * pattern with Go's filepath.Match semantics (`*`, `?`, `[...]`, `\` escapes; none crosses "/")
 * matched against every context path. A pattern matching nothing yields []; a path that does
 * not exist throws ContextPathError.
 */
export async function matchSources(context: BuildContext, source: string): Promise<MatchedSource[]> {
  const clean = cleanContextPath(source);
  if (!hasWildcard(source)) {
    const entry = await context.resolve(clean);
    return [{ name: baseName(clean), entry: checkKind(entry, source) }];
  }
  let matches: (path: string) => boolean;
  try {
    pathMatch(clean, "");
    matches = (path) => pathMatch(clean, path);
  } catch {
    throw new ContextPathError(`${source}: syntax error in pattern`);
  }
  const found: MatchedSource[] = [];
  for await (const entry of context.walk()) {
    if (!matches(entry.path)) continue;
    const resolved = entry.type === "symlink" ? await context.resolve(entry.path) : entry;
    found.push({ name: baseName(entry.path), entry: checkKind(resolved, source) });
  }
  return found;
}

function checkKind(entry: ContextEntry, source: string): ContextEntry {
  if (entry.type === "symlink") throw new ContextPathError(`${source}: unresolved symlink`);
  return entry;
}

/**
 * Every entry below a directory of the context, parents before children, symlinks kept as
 * links (docker copies a directory's symlinks as they are).
 */
export async function* walkDirectory(context: BuildContext, dir: string): AsyncIterable<ContextEntry> {
  for (const entry of await context.readdir(dir)) {
    yield entry;
    if (entry.type === "directory") yield* walkDirectory(context, entry.path);
  }
}
