import { InvalidArgumentError } from "../../errors";

/**
 * A shell pattern (`*`, `?`, `\*` for a literal star) as a RegExp, as BuildKit's convertShellPatternToRegex (no
 * bracket expressions). `greedy` picks the longest match for `*`, `anchored` matches at the start only.
 */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? "^" : "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*") out += greedy ? "[^]*" : "[^]*?";
    else if (ch === "?") out += "[^]";
    else if (ch === "\\") {
      const next = chars[i + 1];
      // `\}` and `\/` only protect the ${} syntax; the escape is not part of the pattern.
      if (next === "}" || next === "/") continue;
      if (next !== "*" && next !== "?" && next !== "\\") {
        throw new InvalidArgumentError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ""}'`);
      }
      out += "\\" + next;
      i++;
    } else if ("[]{}.+()|^$/".includes(ch)) out += "\\" + ch;
    else out += ch;
  }
  return new RegExp(out, global ? "gu" : "u");
}

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** The shortest/longest suffix: reverse pattern and value, and trim a prefix (a regexp cannot search leftwards). */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

function reverse(s: string): string {
  return Array.from(s).reverse().join("");
}

/** Reverses a pattern keeping escape pairs in order (`a\*c` → `c\*a`). */
function reversePattern(pattern: string): string {
  const tokens: string[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === "\\" && i + 1 < chars.length) {
      tokens.push(chars[i]! + chars[i + 1]!);
      i++;
    } else tokens.push(chars[i]!);
  }
  return tokens.reverse().join("");
}
