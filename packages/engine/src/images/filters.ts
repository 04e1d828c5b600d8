import { InvalidArgumentError } from "../errors";

/** docker's filters.Args: filter name → values (`--filter name=value`, repeated). */
export type FilterArgs = Record<string, string[]>;

/** docker's filters.ParseFlag for a list of `--filter` values. */
export function parseFilterFlags(flags: readonly string[]): FilterArgs {
  const args: FilterArgs = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq === -1) throw new InvalidArgumentError("bad format of filter (expected name=value)");
    const name = flag.slice(0, eq).trim().toLowerCase();
    const value = flag.slice(eq + 1).trim();
    (args[name] ??= []).push(value);
  }
  return args;
}

/** `invalid filter 'x'`, `invalid filter 'dangling=[x]'`, as the daemon words it. */
export function invalidFilter(name: string, values?: readonly string[]): InvalidArgumentError {
  return new InvalidArgumentError(values ? `invalid filter '${name}=[${values.join(" ")}]'` : `invalid filter '${name}'`);
}

export function validateFilters(filters: FilterArgs, accepted: readonly string[]): void {
  for (const name of Object.keys(filters)) {
    if (!accepted.includes(name)) throw invalidFilter(name);
  }
}

/** filters.Args.MatchKVList: every `key` / `key=value` condition must hold. True when none given. */
export function matchKVList(conditions: readonly string[] | undefined, labels: Record<string, string>): boolean {
  if (!conditions || conditions.length === 0) return true;
  return conditions.every((cond) => {
    const eq = cond.indexOf("=");
    if (eq === -1) return Object.hasOwn(labels, cond);
    const key = cond.slice(0, eq);
    return Object.hasOwn(labels, key) && labels[key] === cond.slice(eq + 1);
  });
}

/** filters.GetBoolOrDefault. */
export function getBool(filters: FilterArgs, name: string, fallback: boolean): boolean {
  const values = filters[name];
  if (!values || values.length === 0) return fallback;
  if (values.length > 1) throw new InvalidArgumentError(`invalid filter '${name}': got more than one value`);
  const value = (values[0] ?? "").toLowerCase();
  if (["1", "t", "true"].includes(value)) return true;
  if (["0", "f", "false"].includes(value)) return false;
  throw invalidFilter(name, values);
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in milliseconds; undefined when it is not a duration. */
export function parseGoDuration(value: string): number | undefined {
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(value);
  if (!m) return value === "0" ? 0 : undefined;
  let total = 0;
  for (const part of (m[2] ?? "").matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (DURATION_UNITS[part[2] ?? ""] ?? 0);
  }
  return m[1] === "-" ? -total : total;
}

/**
 * docker's timetypes.GetTimestamp for `until=` / `since=`: a Go duration before `now` ("24h"),
 * an RFC 3339 timestamp or date (UTC when it has no zone), or Unix seconds ("1700000000.5").
 */
export function parseTimestamp(value: string, now: Date = new Date()): Date {
  const duration = value !== "0" ? parseGoDuration(value) : undefined;
  if (duration !== undefined) return new Date(now.getTime() - duration);
  const hasZone = /[zZ+]/.test(value) || (value.match(/-/g)?.length ?? 0) === 3;
  const dateRe = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;
  const m = dateRe.exec(value);
  if (m) {
    const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone = ""] = m;
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${zone && hasZone ? (zone === "z" ? "Z" : zone) : "Z"}`;
    const t = new Date(iso);
    if (!Number.isNaN(t.getTime())) return t;
  }
  if (value.includes("-")) throw new InvalidArgumentError(`parsing time "${value}": cannot parse as a timestamp`);
  if (/^\d+(\.\d{1,9})?$/.test(value)) {
    const [sec = "0", frac = "0"] = value.split(".");
    return new Date(Number(sec) * 1000 + Math.floor(Number(`0.${frac}`) * 1000));
  }
  throw new InvalidArgumentError(`failed to parse value as time or duration: "${value}"`);
}
