import { InvalidArgumentError } from "../../errors";
import { Lexer } from "./expand";

/** A heredoc opener found on an instruction line (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`). */
export interface HeredocOpener {
  name: string;
  /** `<<-`: leading tabs are removed from the body lines and the terminator. */
  chomp: boolean;
  expand: boolean;
}

const HEREDOC_WORD = /^(\d*)<<(-?)\s*([^<]*)$/;
const noEnv = () => undefined;

/** The heredoc opener a word is, or null (as BuildKit's ParseHeredoc). */
export function parseHeredocWord(word: string): HeredocOpener | null {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3] === "") return null;
  const rest = m[3]!;
  // Lex the delimiter with and without quotes: if they differ, part of it was quoted and the body is not expanded.
  let words: string[];
  let raw: string[];
  try {
    words = new Lexer(rest, noEnv, { escape: "\\", skipUnsetEnv: true }).process().words;
    if (words.length !== 1) return null;
    raw = new Lexer(rest, noEnv, { escape: "\\", skipUnsetEnv: true, rawQuotes: true }).process().words;
  } catch (err) {
    throw new InvalidArgumentError(`bad heredoc ${word}: ${(err as Error).message}`);
  }
  if (raw.length !== 1) return null;
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name: words[0]!, chomp: m[2] === "-", expand: quotes(words[0]!) === quotes(raw[0]!) };
}

/** The heredoc openers on a line, in order. Words are found with quotes and escapes kept, so `'<<EOF'` is no opener. */
export function heredocsFromLine(line: string): HeredocOpener[] {
  let words: string[];
  try {
    words = new Lexer(line, noEnv, { escape: "\\", rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).process().words;
  } catch {
    // An unbalanced quote: docker finds no heredoc on such a line either.
    return [];
  }
  const openers: HeredocOpener[] = [];
  for (const word of words) {
    const opener = parseHeredocWord(word);
    if (opener) openers.push(opener);
  }
  return openers;
}

/** Removes leading tabs from every line (`<<-`). */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, "");
}
