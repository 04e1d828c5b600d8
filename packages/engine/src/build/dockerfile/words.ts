import { isSpace } from "./expand";

/**
 * Splitting of an instruction's arguments, the way BuildKit's parser (frontend/dockerfile/parser/line_parsers.go)
 * does it. Words keep their quotes and escapes: variables are expanded, and quotes removed, at build time.
 */

/** Go's strings.TrimSpace / TrimLeftFunc(unicode.IsSpace). */
export function trimSpace(s: string): string {
  return s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, "");
}
export function trimLeftSpace(s: string): string {
  return s.replace(/^[\s\u0085]+/u, "");
}

/** Splits on runs of blanks, no quote handling (FROM, EXPOSE, COPY/ADD/VOLUME shell form). */
export function splitWhitespace(rest: string): string[] {
  const trimmed = trimSpace(rest);
  return trimmed === "" ? [] : trimmed.split(/[\t\v\f\r ]+/);
}

/** Splits `KEYWORD rest` into the keyword and the rest (both trimmed). */
export function splitCommand(line: string): { keyword: string; rest: string } {
  const trimmed = trimSpace(line);
  const m = /[\t\v\f\r ]+/.exec(trimmed);
  if (!m) return { keyword: trimmed, rest: "" };
  return { keyword: trimmed.slice(0, m.index), rest: trimmed.slice(m.index + m[0].length) };
}

/**
 * Words for ENV, LABEL and ARG: split on unquoted whitespace, quotes and escapes kept in the word. An escape
 * character outside single quotes keeps the next character in the word (even whitespace or a quote).
 */
export function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let word = "";
  let blankOK = false; // "" is a word when it was quoted
  let quote: string | null = null;
  let inWord = false;
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i]!;
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote === null) {
      if (isSpace(ch)) {
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue; // an escape at the end of the line is dropped
        word += ch;
        ch = chars[++i]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = null;
    else if (ch === escape && quote !== "'") {
      // Nothing can be escaped inside single quotes.
      if (i + 1 === chars.length) {
        quote = null;
        continue;
      }
      word += ch;
      ch = chars[++i]!;
    }
    word += ch;
  }
  if (inWord && (blankOK || word.length > 0)) words.push(word);
  return words;
}

/**
 * Takes the leading `--flag[=value]` words off an instruction's arguments. Quotes in flag words are removed and
 * `\` escapes the next character; a lone `--` ends the flags. Returns the flag words and the remaining text.
 */
export function extractFlags(line: string): { rest: string; flagWords: string[] } {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i]!)) i++;
    if (i >= n) return { rest: "", flagWords: words };
    if (!(line[i] === "-" && line[i + 1] === "-")) return { rest: line.slice(i), flagWords: words };
    let word = "";
    let blankOK = false;
    let quote: string | null = null;
    for (; i < n; i++) {
      let ch = line[i]!;
      if (quote === null && isSpace(ch)) break;
      if (quote === null && (ch === "'" || ch === '"')) {
        quote = ch;
        blankOK = true;
        continue;
      }
      if (quote !== null && ch === quote) {
        quote = null;
        continue;
      }
      if (ch === "\\") {
        if (i + 1 === n) {
          quote = null;
          continue;
        }
        ch = line[++i]!;
      }
      word += ch;
    }
    if (word === "--") {
      // `--` ends the flags; what follows is the argument text.
      return { rest: trimLeftSpace(line.slice(i)), flagWords: words };
    }
    if (blankOK || word.length > 0) words.push(word);
  }
}

export class NotStringArrayError extends Error {
  constructor() {
    super("when using JSON array syntax, arrays must be comprised of strings only");
  }
}

/**
 * The exec form: a JSON array of strings. Returns null when `rest` is not valid JSON (the caller then takes the
 * shell form, like docker); throws NotStringArrayError for valid JSON arrays holding something else than strings.
 */
export function parseJsonArray(rest: string): string[] | null {
  const text = trimLeftSpace(rest);
  if (!text.startsWith("[")) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  const items: unknown[] = value;
  if (!items.every((v): v is string => typeof v === "string")) throw new NotStringArrayError();
  return items;
}
