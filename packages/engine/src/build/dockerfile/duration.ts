/**
 * Go's time.ParseDuration and Duration.String, for HEALTHCHECK flags (`--interval=1m30s`) and the classic builder's
 * history text (`HEALTHCHECK &{["CMD-SHELL" "x"] "1m30s" ...}`). Values are nanoseconds as numbers: safe up to about
 * 104 days, far beyond any sensible healthcheck interval.
 */

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Nanoseconds for a Go duration string ("300ms", "-1.5h", "2h45m"); throws Error with Go's message on bad input. */
export function parseGoDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw invalid();
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?([^\d.]+)/u;
  while (s !== "") {
    const m = re.exec(s);
    if (!m && /^\d+(\.\d*)?$|^\.\d+$/.test(s)) throw new Error(`time: missing unit in duration ${JSON.stringify(text)}`);
    if (!m || (m[1] === "" && (m[2] === undefined || m[2] === ""))) throw invalid();
    const unitName = m[3]!;
    const unit = UNITS[unitName];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(text)}`);
    const whole = m[1] === "" ? 0 : Number(m[1]);
    const frac = m[2] ? Number(`0.${m[2]}`) : 0;
    total += whole * unit + Math.round(frac * unit);
    s = s.slice(m[0].length);
  }
  if (!Number.isSafeInteger(total)) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  return sign * total;
}

/** Go's Duration.String(): "0s", "1.5s", "1m30s", "1h0m0s", "500ms", "1.2µs". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    // Sub-second: one unit with a fraction.
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${fraction(u, 3)}µs`;
    else out = `${fraction(u, 6)}ms`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    out = `${fraction(u, 9)}s`;
    if (h > 0 || m > 0) out = `${m}m${out}`;
    if (h > 0) out = `${h}h${out}`;
  }
  return neg ? `-${out}` : out;
}

/** `value / 10^digits` printed without trailing zeros (as Go's fmtFrac does). */
function fraction(value: number, digits: number): string {
  const scale = 10 ** digits;
  const whole = Math.floor(value / scale);
  const rest = value - whole * scale;
  if (rest === 0) return String(whole);
  return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}
