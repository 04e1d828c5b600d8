/** Display helpers shared by every page. Inputs are tolerant: the API's shapes may still move. */

/** Any digest-like value (string, Digest instance serialised as string, {hex}) as a string. */
export function asString(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const hex = (value as { hex?: unknown }).hex;
    if (typeof hex === "string") return `sha256:${hex}`;
    const s = (value as { toString(): string }).toString();
    if (s !== "[object Object]") return s;
    return JSON.stringify(value);
  }
  return "";
}

/** Docker's 12-character short ID. */
export function shortId(id: unknown): string {
  const s = asString(id);
  return s.replace(/^sha256:/, "").slice(0, 12);
}

export function asDate(value: unknown): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const d = value instanceof Date ? value : typeof value === "string" || typeof value === "number" ? new Date(value) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

export function asNumber(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/** Sizes the way the docker CLI prints them (decimal units, 3 significant digits). */
export function formatBytes(value: unknown): string {
  const n = asNumber(value);
  if (n === null || n < 0) return "—";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let size = n;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit++;
  }
  const text = unit === 0 ? String(size) : size.toPrecision(3).replace(/\.0+$|(\.\d*?)0+$/, "$1");
  return `${text}${units[unit]}`;
}

const rtf = typeof Intl !== "undefined" ? new Intl.RelativeTimeFormat("en", { numeric: "auto" }) : undefined;

/** A token's last use: the server writes it once a minute, so a time within it is not exact. */
export function formatLastUse(value: unknown, now = Date.now()): string {
  const d = asDate(value);
  if (!d) return "never";
  return now - d.getTime() < 60_000 ? "within a minute" : formatRelative(d, now);
}

/** "3 days ago", like `docker images`' CREATED column. */
export function formatRelative(value: unknown, now = Date.now()): string {
  const d = asDate(value);
  if (!d) return "N/A";
  const seconds = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const steps: [number, Intl.RelativeTimeFormatUnit][] = [
    [60, "second"],
    [3600, "minute"],
    [86_400, "hour"],
    [86_400 * 7, "day"],
    [86_400 * 30, "week"],
    [86_400 * 365, "month"],
    [Infinity, "year"],
  ];
  const divisors: Record<string, number> = {
    second: 1,
    minute: 60,
    hour: 3600,
    day: 86_400,
    week: 604_800,
    month: 2_592_000,
    year: 31_536_000,
  };
  for (const [limit, unit] of steps) {
    if (abs < limit) {
      const v = Math.round(seconds / divisors[unit]!);
      return rtf ? rtf.format(v, unit) : `${Math.abs(v)} ${unit}s ${v < 0 ? "ago" : "from now"}`;
    }
  }
  return d.toISOString();
}

export function formatDateTime(value: unknown): string {
  const d = asDate(value);
  if (!d) return "—";
  return d.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** The message of any error (tRPC, fetch, thrown strings) as the server wrote it. */
export function errorMessage(error: unknown): string {
  if (!error) return "";
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown; error?: unknown }).message ?? (error as { error?: unknown }).error;
  return typeof message === "string" ? message : JSON.stringify(error);
}

export function pluralize(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}
