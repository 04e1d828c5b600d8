import path from "node:path";

import { InvalidArgumentError } from "../errors";
import type { ContainerConfig, ImageConfig } from "../image-model";
import { DockerfileError, type Instruction, type InstructionKind } from "./dockerfile/ast";
import { formatGoDuration } from "./dockerfile/duration";
import { envFromList, expandWord, expandWords, type ExpandEnv } from "./dockerfile/expand";
import { flagValue } from "./dockerfile/flags";
import { goList, goQuoteList, goQuote, goQuoteRune } from "./dockerfile/go-format";
import { healthcheckDuration, healthcheckRetries, parseInstructionLine } from "./dockerfile/parse";
import { splitCommand } from "./dockerfile/words";

/**
 * The metadata-only Dockerfile instructions applied to an image config, with the classic docker builder's semantics
 * and history text (moby builder/dockerfile/dispatchers.go): `docker build` steps that add no layer, and the
 * `--change` options of `docker commit` / `docker import`.
 */

export interface ConfigStepContext {
  /** Build args and the config's Env, for ENV LABEL WORKDIR USER EXPOSE VOLUME STOPSIGNAL values. */
  env: ExpandEnv;
  /** The Dockerfile's escape character. */
  escape: string;
  /** A CMD with arguments came earlier in this stage: ENTRYPOINT then keeps Cmd (docker resets it otherwise). */
  cmdSetInStage: boolean;
}

export interface ConfigStepResult {
  /** A new config; the input is not changed. */
  config: ImageConfig;
  /** The history `created_by`, e.g. `/bin/sh -c #(nop)  ENV A=b`. */
  createdBy: string;
  /** cmdSetInStage after this step (true once a CMD with arguments is applied); pass it to the next step. */
  cmdSetInStage: boolean;
}

const DEFAULT_SHELL = ["/bin/sh", "-c"];

/** The history text of a metadata step: the shell, `#(nop) ` and the comment, as the classic builder joins them. */
export function nopCreatedBy(config: ImageConfig, comment: string, oneSpace = false): string {
  const shell = config.config?.Shell?.length ? config.config.Shell : DEFAULT_SHELL;
  // commit() appends "#(nop) " and the comment as two words (so two spaces); WORKDIR and COPY append one word.
  return [...shell, oneSpace ? `#(nop) ${comment}` : `#(nop)  ${comment}`].join(" ");
}

/** Applies one ENV LABEL WORKDIR USER EXPOSE VOLUME STOPSIGNAL CMD ENTRYPOINT SHELL HEALTHCHECK ONBUILD MAINTAINER. */
export function applyConfigInstruction(config: ImageConfig, instr: Instruction, ctx: ConfigStepContext): ConfigStepResult {
  try {
    return apply(config, instr, ctx);
  } catch (err) {
    if (err instanceof DockerfileError) throw err;
    throw new DockerfileError(instr.line, `${instr.kind}: ${(err as Error).message}`);
  }
}

function apply(input: ImageConfig, instr: Instruction, ctx: ConfigStepContext): ConfigStepResult {
  const c: ContainerConfig = { ...input.config };
  const config: ImageConfig = { ...input, config: c };
  const word = (w: string) => expandWord(w, ctx.env, ctx.escape);
  let cmdSetInStage = ctx.cmdSetInStage;
  const done = (comment: string, oneSpace = false): ConfigStepResult => ({
    config,
    createdBy: nopCreatedBy(config, comment, oneSpace),
    cmdSetInStage,
  });

  switch (instr.kind) {
    case "ENV": {
      const env = [...(c.Env ?? [])];
      const pairs = instr.pairs.map((p) => ({ key: word(p.key), value: word(p.value) }));
      for (const { key, value } of pairs) {
        if (key === "") throw new Error("ENV names can not be blank");
        const entry = `${key}=${value}`;
        const at = env.findIndex((e) => e === key || e.startsWith(`${key}=`));
        if (at >= 0) env[at] = entry;
        else env.push(entry);
      }
      c.Env = env;
      return done(`ENV ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`);
    }
    case "LABEL": {
      const labels = { ...(c.Labels ?? {}) };
      const pairs = instr.pairs.map((p) => ({ key: word(p.key), value: word(p.value) }));
      for (const { key, value } of pairs) {
        if (key === "") throw new Error("LABEL names can not be blank");
        labels[key] = value;
      }
      c.Labels = sortedKeys(labels);
      return done(`LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`);
    }
    case "WORKDIR": {
      const dir = word(instr.words[0] ?? "");
      if (dir === "") throw new Error("WORKDIR needs a path (the value is empty after variable expansion)");
      c.WorkingDir = resolveWorkdir(c.WorkingDir ?? "", dir);
      return done(`WORKDIR ${c.WorkingDir}`, true);
    }
    case "USER": {
      const user = word(instr.words[0] ?? "");
      c.User = user;
      return done(`USER ${user}`);
    }
    case "EXPOSE": {
      const ports = instr.words.flatMap((w) => expandWords(w, ctx.env, ctx.escape));
      const exposed: Record<string, object> = { ...(c.ExposedPorts ?? {}) };
      for (const spec of ports) for (const key of exposedPortKeys(spec)) exposed[key] = {};
      c.ExposedPorts = sortedKeys(exposed);
      return done(`EXPOSE ${ports.join(" ")}`);
    }
    case "VOLUME": {
      const volumes: Record<string, object> = { ...(c.Volumes ?? {}) };
      const list = instr.words.map((w) => word(w).trim());
      for (const v of list) {
        if (v === "") throw new Error("VOLUME specified can not be an empty string");
        volumes[v] = {};
      }
      c.Volumes = sortedKeys(volumes);
      return done(`VOLUME ${goList(list)}`);
    }
    case "STOPSIGNAL": {
      const signal = word(instr.words[0] ?? "");
      checkSignal(signal);
      c.StopSignal = signal;
      return done(`STOPSIGNAL ${signal}`);
    }
    case "CMD": {
      const cmd = instr.command.form === "exec" ? [...instr.command.args] : [...shellOf(c), instr.command.command];
      c.Cmd = cmd;
      // Linux docker stores ArgsEscaped=false (omitted) once a command is given; older images may carry true.
      if (cmd.length > 0) delete c.ArgsEscaped;
      if (instr.command.form === "shell" || instr.command.args.length > 0) cmdSetInStage = true;
      return done(`CMD ${goQuoteList(cmd)}`);
    }
    case "ENTRYPOINT": {
      const entrypoint = instr.command.form === "exec" ? [...instr.command.args] : [...shellOf(c), instr.command.command];
      // `ENTRYPOINT []` clears the entrypoint.
      c.Entrypoint = entrypoint.length > 0 ? entrypoint : null;
      if (entrypoint.length > 0) delete c.ArgsEscaped;
      if (!cmdSetInStage) c.Cmd = null;
      return done(`ENTRYPOINT ${goQuoteList(entrypoint)}`);
    }
    case "SHELL":
      c.Shell = [...instr.args];
      return done(`SHELL ${goList(instr.args)}`);
    case "HEALTHCHECK": {
      const health = healthcheckOf(instr);
      c.Healthcheck = health;
      return done(`HEALTHCHECK ${healthcheckText(health)}`);
    }
    case "ONBUILD":
      c.OnBuild = [...(c.OnBuild ?? []), instr.triggerText];
      return done(`ONBUILD ${instr.triggerText}`);
    case "MAINTAINER":
      config.author = instr.words[0] ?? "";
      return done(`MAINTAINER ${config.author}`);
    case "FROM":
    case "ARG":
    case "RUN":
    case "COPY":
    case "ADD":
      throw new DockerfileError(instr.line, `${instr.kind} is not a metadata instruction: it cannot be applied to an image config alone`);
  }
}

function shellOf(c: ContainerConfig): string[] {
  return c.Shell?.length ? c.Shell : DEFAULT_SHELL;
}

/** A relative WORKDIR is relative to the current one (or /); the result is clean and absolute, like docker's. */
function resolveWorkdir(current: string, requested: string): string {
  const joined = requested.startsWith("/") ? requested : path.posix.join("/", current, requested);
  const clean = path.posix.normalize(joined);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}

type Healthcheck = NonNullable<ContainerConfig["Healthcheck"]> & { StartInterval?: number };

function healthcheckOf(instr: Extract<Instruction, { kind: "HEALTHCHECK" }>): Healthcheck {
  if (instr.command === null) return { Test: ["NONE"] };
  const test = instr.command.form === "exec" ? ["CMD", ...instr.command.args] : ["CMD-SHELL", instr.command.command];
  const health: Healthcheck = { Test: test };
  const durations = [
    ["interval", "Interval"],
    ["timeout", "Timeout"],
    ["start-period", "StartPeriod"],
    ["start-interval", "StartInterval"],
  ] as const;
  for (const [flag, field] of durations) {
    const value = flagValue(instr.flags, flag);
    const ns = value ? healthcheckDuration(flag, value) : 0;
    if (ns > 0) health[field] = ns;
  }
  const retries = flagValue(instr.flags, "retries");
  const n = retries ? healthcheckRetries(retries) : 0;
  if (n > 0) health.Retries = n;
  return health;
}

/** `%q` of docker's *HealthConfig: `&{["CMD-SHELL" "curl x"] "30s" "0s" "0s" "0s" '\x03'}`. */
function healthcheckText(h: Healthcheck): string {
  const d = (ns: number | undefined) => goQuote(formatGoDuration(ns ?? 0));
  return `&{${goQuoteList(h.Test)} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${d(h.StartInterval)} ${goQuoteRune(h.Retries ?? 0)}}`;
}

/**
 * The ExposedPorts keys of one EXPOSE word: `80` → 80/tcp, `53/udp`, `8000-8002` → three keys; an
 * `ip:hostPort:containerPort` spec exposes the container port.
 */
export function exposedPortKeys(spec: string): string[] {
  const parts = spec.split("/");
  const portPart = parts[0] ?? "";
  const proto = (parts.length > 1 && parts[1] !== "" ? parts[1]! : "tcp").toLowerCase();
  if (spec === "" || portPart === "") throw new Error(`invalid port specification: "${spec}"`);
  if (!["tcp", "udp", "sctp"].includes(proto)) throw new Error(`invalid proto: ${proto} (in "${spec}"; use tcp, udp or sctp)`);
  const container = portPart.slice(portPart.lastIndexOf(":") + 1);
  const m = /^(\d+)(?:-(\d+))?$/.exec(container);
  if (!m) throw new Error(`invalid containerPort: ${container || spec}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535) throw new Error(`invalid port: ${container} (ports go up to 65535)`);
  if (end < start) throw new Error(`invalid range specified for container port: ${container}`);
  const keys: string[] = [];
  for (let p = start; p <= end; p++) keys.push(`${p}/${proto}`);
  return keys;
}

const SIGNALS = new Set(
  "ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN RTMAX".split(
    " ",
  ),
);

/** docker's signal.ParseSignal: a number (not 0) or a name with or without SIG (`SIGTERM`, `term`, `RTMIN+3`). */
function checkSignal(raw: string): void {
  if (/^\d+$/.test(raw)) {
    if (Number(raw) === 0) throw new Error(`Invalid signal: ${raw}`);
    return;
  }
  const name = raw.toUpperCase().replace(/^SIG/, "");
  const rt = /^RTMIN\+(\d+)$/.exec(name) ?? /^RTMAX-(\d+)$/.exec(name);
  if (SIGNALS.has(name) || (rt && Number(rt[1]) >= 1 && Number(rt[1]) <= (name.startsWith("RTMIN") ? 15 : 14))) return;
  throw new Error(`Invalid signal: ${raw}`);
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  // Go writes map keys sorted: keep configs byte-identical to docker's whatever the order of the instructions.
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const COMMIT_KINDS = new Set<InstructionKind>([
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "HEALTHCHECK",
  "LABEL",
  "ONBUILD",
  "USER",
  "VOLUME",
  "WORKDIR",
  "STOPSIGNAL",
]);

/**
 * `docker commit --change` / `docker import --change`: applies each change in order to a copy of the config. Values
 * expand against the config's Env as it is at that change. Other instructions are refused as docker refuses them.
 */
export function applyConfigChanges(config: ImageConfig, changes: string[]): ImageConfig {
  let current = config;
  let cmdSetInStage = false;
  for (const change of changes) {
    if (change.trim() === "") continue;
    const keyword = splitCommand(change).keyword;
    if (!COMMIT_KINDS.has(keyword.toUpperCase() as InstructionKind)) {
      throw new InvalidArgumentError(`${keyword.toLowerCase()} is not a valid change command`);
    }
    try {
      const instr = parseInstructionLine(change);
      const env = envFromList(current.config?.Env);
      const result = applyConfigInstruction(current, instr, { env, escape: "\\", cmdSetInStage });
      current = result.config;
      cmdSetInStage = result.cmdSetInStage;
    } catch (err) {
      if (err instanceof DockerfileError) throw new InvalidArgumentError(`invalid change "${change}": ${err.reason}`);
      throw err;
    }
  }
  return current;
}
