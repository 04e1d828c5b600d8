import { Option, type Command } from "commander";
import type { Runtime } from "../runtime";
import { UsageError } from "../errors";

/** `berth images` → path shown in usage messages. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** docker's flag error (exit 125). */
export function flagError(cmd: Command, message: string): UsageError {
  return new UsageError(
    `${message}\n\nUsage:  ${commandPath(cmd)} ${cmd.usage()}\n\nRun '${commandPath(cmd)} --help' for more information`,
    125,
  );
}

/** docker's `--filter key=value`: repeatable, grouped by key. */
export type Filters = Record<string, string[]>;

export function parseFilter(value: string): [string, string] {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new Error("bad format of filter (expected name=value)");
  const key = value.slice(0, eq).trim().toLowerCase();
  return [key, value.slice(eq + 1)];
}

export function addFilter(filters: Filters, value: string): Filters {
  const [key, v] = parseFilter(value);
  return { ...filters, [key]: [...(filters[key] ?? []), v] };
}

/** Adds a repeatable `--filter` option whose values are validated while parsing. */
export function filterOption(cmd: Command, description = "Filter output based on conditions provided", short = "-f"): Command {
  const flags = short ? `${short}, --filter <filter>` : "--filter <filter>";
  return cmd.addOption(
    new Option(flags, description).default({}, "").argParser((value: string, previous: Filters) => {
      try {
        return addFilter(previous, value);
      } catch (err) {
        throw flagError(cmd, `invalid argument "${value}" for "${short ? `${short}, ` : ""}--filter" flag: ${(err as Error).message}`);
      }
    }),
  );
}

/**
 * docker's boolean flags also take a value (`-H=false`, `--human=false`); commander does not,
 * so those spellings are rewritten to `--no-<flag>` / `--<flag>` before parsing.
 */
export function rewriteBoolFlags(argv: string[], flags: Record<string, string>): string[] {
  return argv.map((arg) => {
    const m = /^(--?[A-Za-z][\w-]*)=(.*)$/.exec(arg);
    const long = m ? flags[m[1] ?? ""] : undefined;
    if (!m || !long) return arg;
    const v = (m[2] ?? "").toLowerCase();
    if (["false", "0", "f"].includes(v)) return `--no-${long}`;
    if (["true", "1", "t"].includes(v)) return `--${long}`;
    return arg;
  });
}

/** Runs an async action and records its exit code; errors propagate to `main`. */
export function act<A extends unknown[]>(rt: Runtime, fn: (...args: A) => Promise<number | void>) {
  return async (...args: A): Promise<void> => {
    const code = await fn(...args);
    if (typeof code === "number" && code !== 0) rt.exitCode = code;
  };
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Go's `time.ParseDuration` (plus `d` for days): `90m`, `1h30m`, `2.5h`. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ""] ?? 0);
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

/**
 * docker's `--since`/`--until` values: RFC 3339 dates (`2024-01-01`, `2024-01-01T10:00:00Z`),
 * Unix timestamps (`1704067200`, `1704067200.5`) or durations before now (`10m`, `1h30m`, `2d`).
 */
export function parseTimeArg(text: string, now: Date): Date | undefined {
  const value = text.trim();
  if (!value) return undefined;
  const duration = parseDuration(value);
  if (duration !== undefined) return new Date(now.getTime() - duration);
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return undefined;
}

/** commander's accumulator for a repeatable option (`-t a -t b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
