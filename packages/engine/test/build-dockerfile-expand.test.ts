import { describe, expect, it } from "vitest";

import { envFromList, expandWord, expandWords, Lexer, type ExpandEnv, type LexerOptions } from "../src/build/dockerfile/expand";
import { InvalidArgumentError } from "../src/errors";

const env: ExpandEnv = envFromList(["PWD=/home", "EMPTY=", "SPACED=x  y", "Q=it's", "NAME=world"]);

// Cases after BuildKit's shell lexer tests (frontend/dockerfile/shell/envVarTest), with the escape character "\".
describe("expandWord", () => {
  const cases: [string, string][] = [
    ["hello", "hello"],
    ["he'll'o", "hello"],
    ["he\\'llo", "he'llo"],
    ["abc\\\\", "abc\\"],
    ["abc\\", "abc"],
    ['"hello"', "hello"],
    [`"he'llo"`, "he'llo"],
    ['"he\\"llo"', 'he"llo'],
    ['"a\\b"', "a\\b"],
    ['"a\\\\b"', "a\\b"],
    ['"a\\$PWD"', "a$PWD"],
    ["'$PWD'", "$PWD"],
    ["'a\\b'", "a\\b"],
    ['"$PWD"', "/home"],
    ["$PWD", "/home"],
    ["${PWD}", "/home"],
    ["${PWD}x", "/homex"],
    ["$PWD/x", "/home/x"],
    ["\\$PWD", "$PWD"],
    ["$XXX", ""],
    ["${XXX}", ""],
    ["a$XXX-b", "a-b"],
    ["$", "$"],
    ["a$", "a$"],
    ["$/", "$/"],
    ["$1", ""],
    ["${XXX:-aaa}", "aaa"],
    ["${PWD:-aaa}", "/home"],
    ["${EMPTY:-aaa}", "aaa"],
    ["${XXX-aaa}", "aaa"],
    ["${EMPTY-aaa}", ""],
    ["${XXX:+aaa}", ""],
    ["${PWD:+aaa}", "aaa"],
    ["${EMPTY:+aaa}", ""],
    ["${XXX+aaa}", ""],
    ["${EMPTY+aaa}", "aaa"],
    ["${EMPTY?}", ""],
    ["${PWD:?}", "/home"],
    ["${XXX:-${PWD}/y}", "/home/y"],
    ['${XXX:-"a b"}', "a b"],
    ["${XXX:-'$PWD'}", "$PWD"],
    ["hello $NAME", "hello world"],
    ["  spaces kept  ", "  spaces kept  "],
    ['"$Q"', "it's"],
    ["${NAME}_${NAME}", "world_world"],
    ["$NAME_x", ""],
  ];
  it.each(cases)("%s → %s", (word, expected) => {
    expect(expandWord(word, env)).toBe(expected);
  });

  it("expands BuildKit's pattern forms", () => {
    const files = envFromList(["F=dir/sub/file.tar.gz", "S=a*b*c"]);
    const cases: [string, string][] = [
      ["${F#*/}", "sub/file.tar.gz"],
      ["${F##*/}", "file.tar.gz"],
      ["${F%.*}", "dir/sub/file.tar"],
      ["${F%%.*}", "dir/sub/file"],
      ["${F#nomatch}", "dir/sub/file.tar.gz"],
      ["${F#d?r}", "/sub/file.tar.gz"],
      ["${F/\\//-}", "dir-sub/file.tar.gz"],
      ["${F//\\//-}", "dir-sub-file.tar.gz"],
      ["${F/sub/}", "dir//file.tar.gz"],
      ["${F//[.]/x}", "dir/sub/file.tar.gz"],
      ["${S#*\\*}", "b*c"],
      ["${S%\\**}", "a*b"],
      ["${UNSET#x}", ""],
    ];
    for (const [word, expected] of cases) expect(expandWord(word, files), word).toBe(expected);
  });

  it("lexer options: raw quotes and escapes, unset variables kept, quotes as plain characters", () => {
    const lex = (text: string, options: Omit<LexerOptions, "escape">) => new Lexer(text, env, { escape: "\\", ...options }).process();
    expect(lex(`a 'b $PWD' "c $PWD" \\d`, { rawQuotes: true, rawEscapes: true }).word).toBe(`a 'b $PWD' "c /home" \\d`);
    expect(lex("$NOPE ${NOPE} ${NOPE:-x} $PWD", { skipUnsetEnv: true }).word).toBe("$NOPE ${NOPE} ${NOPE:-x} /home");
    // Heredoc bodies (BuildKit's ExpandRaw): quotes stay and do not stop expansion.
    expect(lex(`echo '$PWD' "$NAME"`, { skipProcessQuotes: true }).word).toBe(`echo '/home' "world"`);
    expect(lex("cat <<  EOF > x", {}).words).toEqual(["cat", "<<  EOF", ">", "x"]);
    expect(lex("cat <<  EOF > x", {}).word).toBe("cat <<  EOF > x");
  });

  it("names the word in errors", () => {
    expect(() => expandWord("x${A", env)).toThrow(`failed to process "x\${A": syntax error: missing '}'`);
  });

  it("uses the backtick as escape character when told", () => {
    expect(expandWord("a`$PWD", env, "`")).toBe("a$PWD");
    expect(expandWord("C:\\Program Files\\x", env, "`")).toBe("C:\\Program Files\\x");
    expect(expandWord('"a`"b"', env, "`")).toBe('a"b');
    expect(expandWord("``", env, "`")).toBe("`");
  });

  const errors: [string, string][] = [
    ["he'llo", "unexpected end of statement while looking for matching single-quote"],
    ['he"llo', "unexpected end of statement while looking for matching double-quote"],
    ["${}", "syntax error: bad substitution"],
    ["${:x}", "syntax error: bad substitution"],
    ["${PWD", "syntax error: missing '}'"],
    ["${PWD:-x", "syntax error: missing '}'"],
    ["${", "syntax error: missing '}'"],
    ["${XXX:?}", "XXX: is not allowed to be unset"],
    ["${XXX:?need XXX}", "XXX: need XXX"],
    ["${EMPTY:?}", "EMPTY: is not allowed to be empty"],
    ["${XXX?oops}", "XXX: oops"],
    ["${PWD:%x}", "unsupported modifier (:%) in substitution"],
    ["${PWD!x}", "unsupported modifier (!) in substitution"],
    ["${PWD/x", "syntax error: missing '/' in ${}"],
    ["${PWD#\\a}", "invalid pattern (\\a) in substitution: invalid escape '\\a'"],
  ];
  it.each(errors)("%s is an error: %s", (word, message) => {
    const run = () => expandWord(word, env);
    expect(run).toThrow(InvalidArgumentError);
    expect(run).toThrow(message);
  });

  it("treats an unset variable and one set to empty differently", () => {
    const lookup = envFromList(["A="], (name) => (name === "B" ? "from-args" : undefined));
    expect(expandWord("${A-unset}", lookup)).toBe("");
    expect(expandWord("${C-unset}", lookup)).toBe("unset");
    expect(expandWord("$B", lookup)).toBe("from-args");
  });
});

describe("expandWords", () => {
  const cases: [string, string[]][] = [
    ["a b c", ["a", "b", "c"]],
    ['a "b c" d', ["a", "b c", "d"]],
    ["a\\ b", ["a b"]],
    ["$SPACED", ["x", "y"]],
    ['"$SPACED"', ["x  y"]],
    ["pre$SPACED", ["prex", "y"]],
    ["$XXX", []],
    ['""', []],
    ["  80   443/udp ", ["80", "443/udp"]],
    ["'a  b'c", ["a  bc"]],
  ];
  it.each(cases)("%s → %j", (word, expected) => {
    expect(expandWords(word, env)).toEqual(expected);
  });
});
