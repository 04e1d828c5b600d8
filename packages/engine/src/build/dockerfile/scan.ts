import { DockerfileError, type Heredoc } from "./ast";
import { chompHeredocContent, type HeredocOpener } from "./heredoc";
import { trimLeftSpace } from "./words";

/**
 * Physical lines to logical instruction lines, as BuildKit's parser reads a Dockerfile: parser directives at the
 * top, comments and blank lines skipped, continuation lines joined (comment and blank lines inside a continuation
 * are dropped), heredoc bodies read after the line that opens them.
 */

export interface LogicalLine {
  /** The instruction text, continuations joined, heredoc bodies left out. */
  text: string;
  line: number;
  endLine: number;
  heredocs: Heredoc[];
}

export interface ScanResult {
  directives: Record<string, string>;
  escape: string;
  lines: LogicalLine[];
  /** Docker's warnings for blank lines inside a continuation (they will become errors in docker). */
  warnings: string[];
}

export interface ScanOptions {
  /** Read `# escape=` etc. from the top (a whole Dockerfile) or not (one instruction given on its own). */
  directives: boolean;
  /** Number of the first line (for an instruction taken out of a larger text). */
  firstLine?: number;
  /** Heredoc openers of a logical line; [] for instructions that take no heredocs. */
  heredocsOf: (text: string) => HeredocOpener[];
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);

export function scanLines(text: string, options: ScanOptions): ScanResult {
  const physical = text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  // A text ending in "\n" has no extra empty line after it.
  if (physical.length > 0 && physical[physical.length - 1] === "" && text.endsWith("\n")) physical.pop();
  const offset = (options.firstLine ?? 1) - 1;
  const directives = options.directives ? readDirectives(physical, offset) : {};
  const escape = directives.escape ?? "\\";
  const continuation = new RegExp(`${escape === "\\" ? "\\\\" : escape}[ \\t]*$`);
  const trimContinuation = (s: string): [string, boolean] => {
    const m = continuation.exec(s);
    return m ? [s.slice(0, m.index), false] : [s, true];
  };

  const lines: LogicalLine[] = [];
  const warnings: string[] = [];
  let i = 0;
  while (i < physical.length) {
    const start = i + 1 + offset;
    let token = trimLeftSpace(physical[i++]!);
    if (token.startsWith("#")) token = "";
    let [text, ended] = trimContinuation(token);
    if (ended && text === "") continue;
    let emptyContinuation = false;
    while (!ended && i < physical.length) {
      const raw = physical[i++]!;
      const left = trimLeftSpace(raw);
      if (left.startsWith("#")) continue;
      if (left === "") {
        emptyContinuation = true;
        continue;
      }
      const [part, end] = trimContinuation(raw);
      text += part;
      ended = end;
    }
    if (trimLeftSpace(text) === "") continue;
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${text}`);
    const heredocs: Heredoc[] = [];
    if (text.includes("<<")) {
      let openers: HeredocOpener[];
      try {
        openers = options.heredocsOf(text);
      } catch (err) {
        throw new DockerfileError(start, (err as Error).message);
      }
      for (const opener of openers) {
        let content = "";
        let terminated = false;
        while (i < physical.length) {
          const raw = physical[i++]!;
          const candidate = opener.chomp ? raw.replace(/^\t+/, "") : raw;
          if (candidate === opener.name) {
            terminated = true;
            break;
          }
          content += raw + "\n";
        }
        if (!terminated) {
          throw new DockerfileError(
            start,
            `unterminated heredoc: <<${opener.name} opened on line ${start} is never closed by a line "${opener.name}"`,
          );
        }
        heredocs.push({ name: opener.name, content: opener.chomp ? chompHeredocContent(content) : content, expand: opener.expand });
      }
    }
    lines.push({ text, line: start, endLine: i + offset, heredocs });
  }
  if (warnings.length > 0) warnings.push("[WARNING]: Empty continuation lines will become errors in a future release.");
  return { directives, escape, lines, warnings };
}

/** Parser directives: only in the comment lines at the very top; the first other line (even blank) ends them. */
function readDirectives(physical: string[], offset: number): Record<string, string> {
  const directives: Record<string, string> = {};
  for (let i = 0; i < physical.length; i++) {
    const m = DIRECTIVE.exec(trimLeftSpace(physical[i]!));
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (!KNOWN_DIRECTIVES.has(key)) break;
    if (key in directives) throw new DockerfileError(i + 1 + offset, `only one ${key} parser directive can be used`);
    const value = m[2]!;
    if (key === "escape" && value !== "\\" && value !== "`") {
      throw new DockerfileError(i + 1 + offset, `invalid escape token '${value}' does not match \` or \\`);
    }
    directives[key] = value;
  }
  return directives;
}
