import ignore from "@balena/dockerignore";

/**
 * A `.dockerignore` matcher with docker's semantics (moby's fileutils.PatternMatcher, as ported
 * by @balena/dockerignore): patterns are cleaned paths relative to the context root, `*` `?`
 * `[...]` do not cross "/", `**` crosses any number of directories, a pattern that matches a
 * directory excludes everything below it, and later `!pattern` lines re-include. Case-sensitive,
 * as on Linux.
 */
export interface IgnoreMatcher {
  ignores(path: string): boolean;
  /** True when some `!` line exists: an excluded directory may still hold included files. */
  readonly hasExceptions: boolean;
}

export function parseDockerignore(text: string, extra: string[] = []): IgnoreMatcher {
  // docker strips a UTF-8 BOM and `#` comment lines; the library drops comments and blank lines.
  const lines = [...text.replace(/^\uFEFF/, "").split(/\r?\n/), ...extra];
  const matcher = ignore({ ignorecase: false }).add(lines);
  const hasExceptions = lines.some((line) => line.trim().startsWith("!"));
  return {
    hasExceptions,
    ignores: (path) => path !== "" && matcher.ignores(path),
  };
}

export const NO_IGNORE: IgnoreMatcher = { hasExceptions: false, ignores: () => false };
