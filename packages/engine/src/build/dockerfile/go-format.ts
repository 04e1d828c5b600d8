/**
 * Go's fmt verbs as the classic docker builder uses them in history text: `CMD %q` of a []string gives
 * `CMD ["sh" "-c" "x"]`, `VOLUME %v` gives `VOLUME [/data]`. Mirrored so that `docker history` reads the same.
 */

/** strconv.Quote: double-quoted with Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += ch === '"' ? '\\"' : escapeChar(ch);
  return out + '"';
}

/** %q of a rune (an int): `'\x03'`, `'A'`. */
export function goQuoteRune(code: number): string {
  const ch = String.fromCodePoint(code);
  return "'" + (ch === "'" ? "\\'" : escapeChar(ch)) + "'";
}

/** %q of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[] | null | undefined): string {
  return "[" + (list ?? []).map(goQuote).join(" ") + "]";
}

/** %v of a []string: `[a b]`. */
export function goList(list: readonly string[] | null | undefined): string {
  return "[" + (list ?? []).join(" ") + "]";
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
};

function escapeChar(ch: string): string {
  const simple = SIMPLE_ESCAPES[ch];
  if (simple) return simple;
  const code = ch.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return "\\x" + code.toString(16).padStart(2, "0");
  // Non-printable Unicode (C1 controls, separators other than space, format characters) gets \u escapes.
  if (/^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]$/u.test(ch) || (/^\p{Zs}$/u.test(ch) && ch !== " ")) {
    return code > 0xffff ? "\\U" + code.toString(16).padStart(8, "0") : "\\u" + code.toString(16).padStart(4, "0");
  }
  return ch;
}
