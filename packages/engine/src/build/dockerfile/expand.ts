import { InvalidArgumentError } from "../../errors";
import { shellPatternToRegExp, trimPrefix, trimSuffix } from "./shell-pattern";

/**
 * Variable expansion in Dockerfile words, with the semantics of BuildKit's shell lexer (frontend/dockerfile/shell):
 * single quotes are literal, double quotes allow `$` expansion, the escape character escapes the next character,
 * and `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:+a}`, `${VAR+a}`, `${VAR:?msg}`, `${VAR?msg}` are expanded,
 * as are BuildKit's pattern forms `${VAR#p}` `${VAR##p}` `${VAR%p}` `${VAR%%p}` `${VAR/p/r}` `${VAR//p/r}`.
 * Unset variables expand to "". This is not a shell: no globbing, no command substitution, no arithmetic.
 */

/** Looks a variable up: its value, or undefined when it is not set (which differs from set to ""). */
export type ExpandEnv = (name: string) => string | undefined;

/** Expands one word and removes its quotes; whitespace is kept (`ENV A="x y"` → `x y`). */
export function expandWord(word: string, env: ExpandEnv, escape = "\\"): string {
  return new Lexer(word, env, { escape }).process().word;
}

/**
 * Expands and splits on unquoted whitespace, as BuildKit's ProcessWords: whitespace that comes from a variable's
 * value splits too (`EXPOSE $PORTS` with PORTS="80 443" gives two words), quoted or escaped whitespace does not.
 */
export function expandWords(word: string, env: ExpandEnv, escape = "\\"): string[] {
  return new Lexer(word, env, { escape }).process().words;
}

/** An ExpandEnv over a docker `K=V` list (the image config's Env), falling back to `fallback` for other names. */
export function envFromList(list: readonly string[] | null | undefined, fallback?: ExpandEnv): ExpandEnv {
  const map = new Map<string, string>();
  for (const entry of list ?? []) {
    const eq = entry.indexOf("=");
    if (eq < 0) map.set(entry, "");
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return (name) => (map.has(name) ? map.get(name) : fallback?.(name));
}

export interface LexerOptions {
  escape: string;
  /** Keep quote characters in the output (used to find heredoc words in a raw line). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave `$VAR` / `${VAR}` as written when VAR is not set. */
  skipUnsetEnv?: boolean;
  /** Quotes are ordinary characters (heredoc bodies: the quotes belong to the script, only `$` expands). */
  skipProcessQuotes?: boolean;
}

/** Collects words: characters from variables split on whitespace, raw (quoted/escaped) characters do not. */
class Words {
  private readonly list: string[] = [];
  private word = "";
  private inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.list.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  result(): string[] {
    return this.word.length > 0 ? [...this.list, this.word] : [...this.list];
  }
}

const EOF = "";

/** The shell-word lexer. One instance processes one input string. */
export class Lexer {
  private readonly chars: string[];
  private pos = 0;
  /** Escapes kept in the output; pattern words (`${a#p}`) switch it on for their extent, as BuildKit does. */
  private rawEscapes: boolean;

  constructor(
    private readonly input: string,
    private readonly env: ExpandEnv,
    private readonly options: LexerOptions,
  ) {
    this.chars = Array.from(input);
    this.rawEscapes = options.rawEscapes ?? false;
  }

  /** The expanded text (`word`) and its split into words (`words`); InvalidArgumentError naming the input. */
  process(): { word: string; words: string[] } {
    try {
      return this.processStopOn(EOF, this.rawEscapes);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`failed to process "${this.input}": ${err.message}`);
      throw err;
    }
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  private processStopOn(stop: string, rawEscapes: boolean): { word: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.processStopOnInner(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processStopOnInner(stop: string): { word: string; words: string[] } {
    let result = "";
    const words = new Words();
    const quotes = !this.options.skipProcessQuotes;
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { word: result, words: words.result() };
      }
      if (ch === "$") {
        const part = this.processDollar();
        result += part;
        words.addString(part);
        continue;
      }
      if ((quotes && (ch === "'" || ch === '"')) || ch === "<") {
        const part = ch === "'" ? this.processSingleQuote() : ch === '"' ? this.processDoubleQuote() : this.processPossibleHeredoc();
        result += part;
        words.addRaw(part);
        continue;
      }
      let c = this.next();
      if (c === this.options.escape) {
        if (this.rawEscapes) {
          words.addRaw(c);
          result += c;
        }
        c = this.next();
        // An escape character at the very end is dropped.
        if (c === EOF) break;
        words.addRaw(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stop !== EOF) throw new InvalidArgumentError(`unexpected end of statement while looking for matching ${stop}`);
    return { word: result, words: words.result() };
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside single quotes (as in sh).
    let result = "";
    const open = this.next();
    if (this.options.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new InvalidArgumentError("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") {
        if (this.options.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = "";
    const open = this.next();
    if (this.options.rawQuotes) result += open;
    for (;;) {
      const peek = this.peek();
      if (peek === EOF) throw new InvalidArgumentError("unexpected end of statement while looking for matching double-quote");
      if (peek === '"') {
        const close = this.next();
        if (this.options.rawQuotes) result += close;
        return result;
      }
      if (peek === "$") {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.options.escape) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        // A trailing escape inside quotes is ignored; only " $ and the escape itself can be escaped, other
        // escapes stay as written (`"a\b"` is `a\b`), like sh.
        if (after === EOF) continue;
        if (after === '"' || after === "$" || after === this.options.escape) ch = this.next();
      }
      result += ch;
    }
  }

  /** `<<` with the blanks after it stays one word with the delimiter (`<< EOF`, `<<- EOF` are heredoc openers). */
  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== "<") return "<";
    this.next();
    let result = "<<";
    if (this.peek() === "-") result += this.next();
    while (this.peek() === " " || this.peek() === "\t") result += this.next();
    return result;
  }

  private processDollar(): string {
    this.next(); // the $
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const value = this.env(name);
      if (value === undefined && this.options.skipUnsetEnv) return "$" + name;
      return value ?? "";
    }
    this.next(); // the {
    const first = this.peek();
    if (first === EOF) throw new InvalidArgumentError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") throw new InvalidArgumentError("syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    let modifier = ch;
    if (ch === "}") {
      const value = this.env(name);
      if (value === undefined && this.options.skipUnsetEnv) return "${" + name + "}";
      return value ?? "";
    }
    if (ch === EOF) throw new InvalidArgumentError("syntax error: missing '}'");
    if (ch === "/") return this.processReplace(name);
    // `:` makes an empty value count as unset for - + ?.
    const nullIsUnset = ch === ":";
    if (nullIsUnset) {
      ch = this.next();
      modifier += ch;
    }
    const pattern = ch === "#" || ch === "%";
    if (!"+-?#%".includes(ch) || ch === EOF || (nullIsUnset && pattern)) {
      throw new InvalidArgumentError(`unsupported modifier (${modifier}) in substitution`);
    }
    // Patterns keep their escapes: `\*` is a literal star there.
    let word = this.processUntilBrace(pattern);
    const value = this.env(name);
    if (value === undefined && this.options.skipUnsetEnv) return "${" + name + modifier + word + "}";
    const unset = value === undefined || (nullIsUnset && value === "");
    switch (ch) {
      case "-":
        return unset ? word : value;
      case "+":
        return unset ? "" : word;
      case "?":
        if (value === undefined) throw new InvalidArgumentError(`${name}: ${word || "is not allowed to be unset"}`);
        if (unset) throw new InvalidArgumentError(`${name}: ${word || "is not allowed to be empty"}`);
        return value;
      default: {
        // `#`/`%` remove the shortest matching prefix/suffix, `##`/`%%` the longest.
        const greedy = word.startsWith(ch);
        if (greedy) word = word.slice(1);
        return ch === "#" ? trimPrefix(word, value ?? "", greedy) : trimSuffix(word, value ?? "", greedy);
      }
    }
  }

  /** `${name/pattern/replacement}` (first match) and `${name//pattern/replacement}` (all matches). */
  private processReplace(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn("/", true).word;
    } catch (err) {
      if (this.peek() === EOF) throw new InvalidArgumentError("syntax error: missing '/' in ${}");
      throw err;
    }
    const replacement = this.processUntilBrace(true);
    const value = this.env(name);
    if (value === undefined && this.options.skipUnsetEnv) return "${" + name + (all ? "//" : "/") + pattern + "/" + replacement + "}";
    const re = shellPatternToRegExp(pattern, true, false, all);
    return (value ?? "").replace(re, () => replacement);
  }

  /** The word after a modifier, up to the closing brace, itself expanded. */
  private processUntilBrace(rawEscapes: boolean): string {
    try {
      return this.processStopOn("}", rawEscapes).word;
    } catch (err) {
      if (this.peek() === EOF) throw new InvalidArgumentError("syntax error: missing '}'");
      throw err;
    }
  }

  /** A variable name: letters, digits and _; or a run of digits ($1); or one special parameter ($$ $? ...). */
  private processName(): string {
    let name = "";
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === "" && isDigit(ch)) {
        while (isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === "" && "*#@!?-$".includes(ch)) return this.next();
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}

function isDigit(ch: string): boolean {
  return ch >= "0" && ch <= "9" && ch.length === 1;
}

/** Unicode whitespace as Go's unicode.IsSpace sees it (the ASCII ones, NEL, NBSP and the Z categories). */
export function isSpace(ch: string): boolean {
  return /^[\s\u0085]$/u.test(ch);
}
