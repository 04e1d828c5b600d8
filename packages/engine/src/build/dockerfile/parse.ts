import {
  DockerfileError,
  type ArgInstruction,
  type CommandLine,
  type Dockerfile,
  type Heredoc,
  type Instruction,
  type InstructionFlag,
  type InstructionKind,
  type Stage,
} from "./ast";
import { parseGoDuration } from "./duration";
import { flagValue, parseFlags } from "./flags";
import { heredocsFromLine, parseHeredocWord, type HeredocOpener } from "./heredoc";
import { scanLines, type LogicalLine } from "./scan";
import { extractFlags, parseJsonArray, parseWords, splitCommand, splitWhitespace } from "./words";

/**
 * The Dockerfile parser: BuildKit's frontend/dockerfile parser and instructions packages are the model (same
 * splitting, same forms, same checks, messages close to theirs). Words are kept as written; expansion happens at
 * build time (expand.ts).
 */

const KINDS = new Set<string>([
  "FROM",
  "ARG",
  "ENV",
  "LABEL",
  "RUN",
  "CMD",
  "ENTRYPOINT",
  "SHELL",
  "HEALTHCHECK",
  "COPY",
  "ADD",
  "WORKDIR",
  "USER",
  "STOPSIGNAL",
  "MAINTAINER",
  "EXPOSE",
  "VOLUME",
  "ONBUILD",
]);

const HEREDOC_KINDS = new Set(["RUN", "COPY", "ADD"]);
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/**
 * Parses a whole Dockerfile; throws DockerfileError naming the line at fault. `file` is the name used in messages
 * (`-f build/Dockerfile.prod`).
 */
export function parseDockerfile(text: string, file = "Dockerfile"): Dockerfile {
  try {
    return parseWholeFile(text);
  } catch (err) {
    if (err instanceof DockerfileError && err.file !== file) throw new DockerfileError(err.line, err.reason, file);
    throw err;
  }
}

function parseWholeFile(text: string): Dockerfile {
  const scanned = scanLines(text, { directives: true, heredocsOf: heredocOpeners });
  if (scanned.lines.length === 0) throw new DockerfileError(0, "the Dockerfile has no instructions");
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  for (const logical of scanned.lines) {
    const instr = parseLogicalLine(logical, scanned.escape);
    if (instr.kind === "FROM") {
      if (instr.stageName !== undefined) {
        const previous = names.get(instr.stageName);
        if (previous !== undefined) {
          throw new DockerfileError(instr.line, `duplicate stage name "${instr.stageName}" (first used on line ${previous})`);
        }
        names.set(instr.stageName, instr.line);
      }
      const stage: Stage = { index: stages.length, from: instr, instructions: [] };
      if (instr.stageName !== undefined) stage.name = instr.stageName;
      stages.push(stage);
      continue;
    }
    const current = stages[stages.length - 1];
    if (current) current.instructions.push(instr);
    else if (instr.kind === "ARG") globalArgs.push(instr);
    else {
      throw new DockerfileError(
        instr.line,
        `no build stage in current context: ${instr.kind} must come after a FROM (only ARG may come before the first FROM)`,
      );
    }
  }
  if (stages.length === 0) throw new DockerfileError(0, "the Dockerfile has no FROM instruction: there is no stage to build");
  const df: Dockerfile = { directives: scanned.directives, escape: scanned.escape, globalArgs, stages };
  if (scanned.warnings.length > 0) df.warnings = scanned.warnings;
  return df;
}

/**
 * Parses one instruction given on its own: `docker commit -c 'ENV A=b'`, or an ONBUILD trigger from an image config
 * (which may carry heredoc bodies on the following lines). `line` is used in error messages.
 */
export function parseInstructionLine(text: string, line = 1): Instruction {
  const scanned = scanLines(text, { directives: false, firstLine: line, heredocsOf: heredocOpeners });
  const [first, second] = scanned.lines;
  if (!first) throw new DockerfileError(line, "no instruction given");
  if (second) throw new DockerfileError(second.line, `one instruction expected, found another: ${second.text.trim()}`);
  return parseLogicalLine(first, scanned.escape);
}

/** Heredocs are read for RUN, COPY and ADD (also as ONBUILD triggers) in shell form. */
function heredocOpeners(text: string): HeredocOpener[] {
  let { keyword, rest } = splitCommand(text);
  if (keyword.toUpperCase() === "ONBUILD") ({ keyword, rest } = splitCommand(rest));
  if (!HEREDOC_KINDS.has(keyword.toUpperCase())) return [];
  try {
    if (parseJsonArray(extractFlags(rest).rest) !== null) return [];
  } catch {
    return [];
  }
  return heredocsFromLine(text);
}

function parseLogicalLine(logical: LogicalLine, escape: string): Instruction {
  try {
    return parseInstruction(logical, escape);
  } catch (err) {
    if (err instanceof DockerfileError) throw err;
    throw new DockerfileError(logical.line, (err as Error).message);
  }
}

/** Argument-count and form errors; the caller adds the line. */
class ParseError extends Error {}

function parseInstruction(logical: LogicalLine, escape: string): Instruction {
  const { keyword: word, rest: args } = splitCommand(logical.text);
  const kind = word.toUpperCase();
  // Named as written, like BuildKit (`unknown instruction: foo`).
  if (!KINDS.has(kind)) throw new ParseError(`unknown instruction: ${word}`);
  const k = kind as InstructionKind;
  const { rest, flagWords } = extractFlags(args);
  const flags = parseFlags(k, flagWords);
  const base = { line: logical.line, endLine: logical.endLine, original: logical.text.trim(), flags };

  switch (k) {
    case "FROM":
      return parseFrom(base, rest);
    case "ARG":
      return { ...base, kind: k, args: parseArgs(rest, escape) };
    case "ENV":
    case "LABEL":
      return { ...base, kind: k, pairs: parseKeyValues(k, rest, escape) };
    case "RUN":
    case "CMD":
    case "ENTRYPOINT": {
      if (rest === "") throw new ParseError(`${k} requires at least one argument`);
      return { ...base, kind: k, command: parseCommandLine(rest), heredocs: k === "RUN" ? logical.heredocs : [] };
    }
    case "SHELL": {
      if (rest === "") throw new ParseError("SHELL requires at least one argument");
      const command = parseCommandLine(rest);
      if (command.form !== "exec") throw new ParseError("SHELL requires the arguments to be in JSON form");
      if (command.args.length === 0) throw new ParseError("SHELL requires at least one argument");
      return { ...base, kind: k, args: command.args };
    }
    case "HEALTHCHECK":
      return { ...base, kind: k, command: parseHealthcheck(rest, flags) };
    case "COPY":
    case "ADD":
      return { ...base, kind: k, ...parseCopy(k, rest, logical.heredocs) };
    case "WORKDIR":
    case "USER":
    case "STOPSIGNAL":
    case "MAINTAINER":
      if (rest === "") throw new ParseError(`${k} requires exactly one argument`);
      return { ...base, kind: k, words: [rest] };
    case "EXPOSE": {
      const words = splitWhitespace(rest);
      if (words.length === 0) throw new ParseError("EXPOSE requires at least one argument");
      return { ...base, kind: k, words };
    }
    case "VOLUME": {
      const words = parseJsonArray(rest) ?? splitWhitespace(rest);
      if (words.length === 0) throw new ParseError("VOLUME requires at least one argument");
      if (words.some((w) => w.trim() === "")) throw new ParseError("VOLUME specified can not be an empty string");
      return { ...base, kind: k, words };
    }
    case "ONBUILD":
      return { ...base, kind: k, ...parseOnbuild(logical, rest, escape) };
  }
}

type Base = { line: number; endLine: number; original: string; flags: InstructionFlag[] };

function parseFrom(base: Base, rest: string): Instruction {
  const words = splitWhitespace(rest);
  if (words.length === 3 && words[1]!.toLowerCase() === "as") {
    const stageName = words[2]!.toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      throw new ParseError(`invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
    }
    return { ...base, kind: "FROM", image: words[0]!, stageName };
  }
  if (words.length !== 1) throw new ParseError("FROM requires either one or three arguments (FROM image [AS name])");
  return { ...base, kind: "FROM", image: words[0]! };
}

function parseArgs(rest: string, escape: string): ArgInstruction["args"] {
  const words = parseWords(rest, escape);
  if (words.length === 0) throw new ParseError("ARG requires at least one argument");
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq === 0) throw new ParseError("ARG names can not be blank");
    return eq < 0 ? { name: word } : { name: word.slice(0, eq), defaultValue: word.slice(eq + 1) };
  });
}

function parseKeyValues(kind: "ENV" | "LABEL", rest: string, escape: string): { key: string; value: string }[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) throw new ParseError(`${kind} requires at least one argument`);
  if (!words[0]!.includes("=")) {
    // The legacy form `ENV key value with spaces`: one pair, the value is the rest of the line.
    const m = /[\t\v\f\r ]+/.exec(rest);
    if (!m) throw new ParseError(`${kind} must have two arguments`);
    return [{ key: rest.slice(0, m.index), value: rest.slice(m.index + m[0].length) }];
  }
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq < 0) throw new ParseError(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    if (eq === 0) throw new ParseError(`${kind} names can not be blank`);
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

/** Exec form when the text is a JSON array of strings, else shell form (invalid JSON included, as docker does). */
function parseCommandLine(rest: string): CommandLine {
  const args = parseJsonArray(rest);
  return args === null ? { form: "shell", command: rest } : { form: "exec", args };
}

function parseHealthcheck(rest: string, flags: InstructionFlag[]): CommandLine | null {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  if (!m) throw new ParseError("HEALTHCHECK requires at least one argument");
  const type = m[1]!.toUpperCase();
  const after = m[2]!;
  if (type === "NONE") {
    if (after !== "") throw new ParseError("HEALTHCHECK NONE takes no arguments");
    return null;
  }
  if (type !== "CMD") throw new ParseError(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  if (after === "") throw new ParseError("Missing command after HEALTHCHECK CMD");
  const command = parseCommandLine(after);
  if (command.form === "exec" && command.args.length === 0) throw new ParseError("Missing command after HEALTHCHECK CMD");
  for (const name of ["interval", "timeout", "start-period", "start-interval"]) {
    const value = flagValue(flags, name);
    if (value !== undefined && value !== "") healthcheckDuration(name, value);
  }
  const retries = flagValue(flags, "retries");
  if (retries !== undefined && retries !== "") healthcheckRetries(retries);
  return command;
}

/** Nanoseconds of a HEALTHCHECK duration flag (0 when not given); docker's checks and messages. */
export function healthcheckDuration(name: string, value: string): number {
  const ns = parseGoDuration(value);
  if (ns === 0) return 0;
  if (ns < 0) throw new ParseError(`Interval "${name}" cannot be negative`);
  if (ns < 1e6) throw new ParseError(`Interval "${name}" cannot be less than 1ms`);
  return ns;
}

export function healthcheckRetries(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new ParseError(`--retries must be a number, got "${value}"`);
  const retries = Number(value);
  if (retries < 0) throw new ParseError(`--retries cannot be negative (${retries})`);
  if (retries > 2147483647) throw new ParseError(`--retries is out of range (${value})`);
  return retries;
}

function parseCopy(kind: "COPY" | "ADD", rest: string, heredocs: Heredoc[]): { sources: string[]; dest: string; heredocs: Heredoc[] } {
  const json = parseJsonArray(rest);
  const words = json ?? splitWhitespace(rest);
  if (words.length < 2) {
    throw new ParseError(
      words.length === 0
        ? `${kind} requires at least two arguments`
        : `${kind} requires at least two arguments, but only one was provided. Destination could not be determined.`,
    );
  }
  const dest = words[words.length - 1]!;
  if (json === null && parseHeredocWord(dest)) throw new ParseError(`${kind} cannot accept a heredoc as a destination`);
  const names = new Set(heredocs.map((h) => h.name));
  const sources =
    json !== null
      ? words.slice(0, -1)
      : words.slice(0, -1).filter((w) => {
          const opener = parseHeredocWord(w);
          return !(opener && names.has(opener.name));
        });
  return { sources, dest, heredocs };
}

function parseOnbuild(logical: LogicalLine, rest: string, escape: string): { triggerText: string; trigger: Instruction } {
  if (rest === "") throw new ParseError("ONBUILD requires at least one argument");
  const { keyword } = splitCommand(rest);
  const triggerKind = keyword.toUpperCase();
  if (triggerKind === "ONBUILD") throw new ParseError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (triggerKind === "FROM" || triggerKind === "MAINTAINER") throw new ParseError(`${triggerKind} isn't allowed as an ONBUILD trigger`);
  const trigger = parseInstruction({ ...logical, text: rest }, escape);
  // The stored trigger: keyword upper-cased, the rest as written, then heredoc bodies (as BuildKit keeps them) so
  // that the child build can parse it again with parseInstructionLine.
  let triggerText = triggerKind + rest.slice(keyword.length);
  for (const heredoc of logical.heredocs) triggerText += "\n" + heredoc.content + heredoc.name;
  return { triggerText, trigger };
}
