import { z } from "zod";

/**
 * Tag protection patterns: globs over a tag's name, `*` for any run of characters (none too)
 * and `?` for exactly one; everything else stands for itself. Tags hold no `/`, so unlike
 * docker's reference filters there is no path to stop at.
 */

/** One path component of a repository name, as references spell it (`team-a`, `library`). */
const NAMESPACE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** The characters of a tag, plus the two wildcards. */
const PATTERN = /^[A-Za-z0-9_.*?-]{1,128}$/;

export const namespaceInput = z
  .string()
  .trim()
  .min(1, "a namespace is required")
  .superRefine((value, ctx) => {
    if (!NAMESPACE.test(value)) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a namespace: give the first path component of a repository, lowercase, like team-a (for team-a/app)`,
      });
    }
  });

export const patternInput = z
  .string()
  .trim()
  .min(1, "a tag pattern is required")
  .superRefine((value, ctx) => {
    if (!PATTERN.test(value)) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a tag pattern: use letters, digits, "_", "." and "-", with "*" for any run of characters and "?" for one (at most 128), e.g. release-* or v*.*.*`,
      });
    }
  });

const compiled = new Map<string, RegExp>();

export function patternMatches(pattern: string, tag: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const body = [...pattern].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.\\^$+()[\]{}|-]/g, "\\$&"))).join("");
    re = new RegExp(`^${body}$`, "s");
    compiled.set(pattern, re);
  }
  return re.test(tag);
}

/** The rule that protects `tag`, if any; rules are tried in pattern order, so the answer is stable. */
export function ruleFor<R extends { pattern: string }>(rules: readonly R[], tag: string): R | undefined {
  return [...rules]
    .sort((a, b) => (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0))
    .find((r) => patternMatches(r.pattern, tag));
}
