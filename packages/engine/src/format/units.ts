/** docker/go-units: sizes with decimal units and human durations, byte-for-byte as docker prints them. */

const DECIMAL_ABBRS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_ABBRS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/**
 * Go's `%.{precision}g`, including round-half-to-even on exact ties (1.125 → "1.12"),
 * trailing-zero removal and `e+03` exponents.
 */
export function formatG(value: number, precision: number): string {
  const p = precision === 0 ? 1 : precision;
  if (value === 0) return "0";
  let digits: string;
  let exp: number;
  // Exact-tie detection: Go rounds the exact binary value half-to-even; toExponential rounds ties up.
  const long = value.toExponential(Math.min(100, p + 30));
  const [longMant = "", longExp = "0"] = long.split("e");
  const longDigits = longMant.replace("-", "").replace(".", "");
  const rest = longDigits.slice(p);
  if (/^50*$/.test(rest)) {
    const kept = longDigits.slice(0, p);
    const lastDigit = Number(kept[kept.length - 1]);
    const roundUp = lastDigit % 2 === 1;
    let n = BigInt(kept) + (roundUp ? 1n : 0n);
    exp = Number(longExp);
    if (n.toString().length > p) {
      n /= 10n;
      exp += 1;
    }
    digits = n.toString();
  } else {
    const [mant = "", e = "0"] = value.toExponential(p - 1).split("e");
    digits = mant.replace("-", "").replace(".", "");
    exp = Number(e);
  }
  const sign = value < 0 ? "-" : "";
  if (exp < -4 || exp >= p) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}`.replace(/\.?0+$/, "") : digits;
    return `${sign}${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  let s: string;
  if (exp >= 0) {
    s = digits.length > exp + 1 ? `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}` : digits.padEnd(exp + 1, "0");
  } else {
    s = `0.${"0".repeat(-exp - 1)}${digits}`;
  }
  if (s.includes(".")) s = s.replace(/\.?0+$/, "");
  return sign + s;
}

function sizeAndUnit(size: number, base: number, abbrs: string[]): [number, string] {
  let i = 0;
  const limit = abbrs.length - 1;
  while (size >= base && i < limit) {
    size /= base;
    i++;
  }
  return [size, abbrs[i] ?? ""];
}

/** go-units HumanSizeWithPrecision: `docker images` uses precision 3 (`7.8MB`, `1.07GB`, `0B`). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [value, unit] = sizeAndUnit(size, 1000, DECIMAL_ABBRS);
  return `${formatG(value, precision)}${unit}`;
}

/** go-units HumanSize (precision 4), used by `docker system df`. */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units (`1.5MiB`). */
export function bytesSize(size: number): string {
  const [value, unit] = sizeAndUnit(size, 1024, BINARY_ABBRS);
  return `${formatG(value, 4)}${unit}`;
}

/** go-units HumanDuration for a duration in milliseconds ("About an hour", "3 days"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** docker's CREATED column: `3 days ago`; `N/A` when the image has no creation time. */
export function createdSince(created: Date | null, now: Date = new Date()): string {
  if (!created || created.getTime() <= 0) return "N/A";
  return `${humanDuration(now.getTime() - created.getTime())} ago`;
}
