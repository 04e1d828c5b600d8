/**
 * A parsed Dockerfile. Words are kept as written (quotes and `$VAR`s included): variables are expanded at build
 * time, when the stage's ARG and ENV values are known (expandWord / expandWords).
 */

/** A flag such as `--from=build` or `--link` (value null when given without `=`). */
export interface InstructionFlag {
  name: string;
  value: string | null;
}

export interface Heredoc {
  /** The delimiter word, without quotes or `-`. */
  name: string;
  /** Body lines joined with "\n", with a trailing "\n"; leading tabs already removed for `<<-`. */
  content: string;
  /** False when the delimiter was quoted (`<<"EOF"`): no variable expansion in the body. */
  expand: boolean;
}

interface Base {
  /** 1-based line of the instruction's first physical line in the Dockerfile. */
  line: number;
  /** 1-based line of its last physical line (continuations and heredocs included). */
  endLine: number;
  /** The instruction as written, continuations joined, heredoc bodies left out: for messages and history. */
  original: string;
  flags: InstructionFlag[];
}

/** Exec form (`["a","b"]`) or shell form (`a b`, kept as one string). */
export type CommandLine = { form: "exec"; args: string[] } | { form: "shell"; command: string };

export interface FromInstruction extends Base {
  kind: "FROM";
  image: string;
  /** Stage name from `AS name`, lower-cased as docker does. */
  stageName?: string;
}
export interface ArgInstruction extends Base {
  kind: "ARG";
  args: { name: string; defaultValue?: string }[];
}
/** ENV and LABEL: `k=v k2=v2` or the legacy `k v` form (one pair). */
export interface KeyValueInstruction extends Base {
  kind: "ENV" | "LABEL";
  pairs: { key: string; value: string }[];
}
export interface CommandInstruction extends Base {
  kind: "CMD" | "ENTRYPOINT" | "RUN";
  command: CommandLine;
  heredocs: Heredoc[];
}
export interface ShellInstruction extends Base {
  kind: "SHELL";
  args: string[];
}
export interface HealthcheckInstruction extends Base {
  kind: "HEALTHCHECK";
  /** null for `HEALTHCHECK NONE`. Flags (--interval, --timeout, --start-period, --start-interval, --retries) in flags. */
  command: CommandLine | null;
}
export interface CopyInstruction extends Base {
  kind: "COPY" | "ADD";
  /** Source words as written (the last word of the line is dest, not here). Heredoc sources are in heredocs. */
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
}
/** One-word (or word-list) instructions. */
export interface WordsInstruction extends Base {
  kind: "WORKDIR" | "USER" | "STOPSIGNAL" | "MAINTAINER" | "EXPOSE" | "VOLUME";
  /** WORKDIR/USER/STOPSIGNAL/MAINTAINER: one entry (the rest of the line). EXPOSE: words. VOLUME: JSON array or words. */
  words: string[];
}
export interface OnbuildInstruction extends Base {
  kind: "ONBUILD";
  /** The trigger's text as written (stored in the config's OnBuild) and parsed. */
  triggerText: string;
  trigger: Instruction;
}

export type Instruction =
  | FromInstruction
  | ArgInstruction
  | KeyValueInstruction
  | CommandInstruction
  | ShellInstruction
  | HealthcheckInstruction
  | CopyInstruction
  | WordsInstruction
  | OnbuildInstruction;

export type InstructionKind = Instruction["kind"];

export interface Stage {
  /** 0-based position; `--from=0` names a stage by it. */
  index: number;
  name?: string;
  from: FromInstruction;
  /** Instructions after FROM, in order. */
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Parser directives from the top of the file (`# syntax=`, `# escape=`, `# check=`), lower-cased keys. */
  directives: Record<string, string>;
  /** The escape character: "\\" unless `# escape=` chose "`". */
  escape: string;
  /** ARGs before the first FROM: usable in FROM lines, and in a stage after `ARG NAME` re-declares them. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
  /** Parser warnings docker prints before building (empty continuation lines); absent when there are none. */
  warnings?: string[];
}

/** A Dockerfile that cannot be built, with the line at fault (1-based; 0 when the file as a whole is wrong). */
export class DockerfileError extends Error {
  override readonly name = "DockerfileError";
  constructor(
    readonly line: number,
    readonly reason: string,
    readonly file = "Dockerfile",
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}
