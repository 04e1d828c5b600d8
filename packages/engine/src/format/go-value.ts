/**
 * How Go's fmt and encoding/json render the values a docker template sees. Plain objects are
 * Go maps (keys sorted); objects marked with `markStruct` are structs (fields in order).
 */

const STRUCT = Symbol.for("berth.goStruct");

/** Marks an object as a Go struct: `{{.}}` prints `{v1 v2}`, json keeps key order, missing fields are errors. */
export function markStruct<T extends object>(obj: T, typeName = "struct"): T {
  Object.defineProperty(obj, STRUCT, { value: typeName, enumerable: false });
  return obj;
}

export function structName(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  return (value as Record<symbol, string | undefined>)[STRUCT];
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A class instance with its own toString (Digest…): Go's fmt.Stringer. */
function stringerText(value: object): string | undefined {
  if (isPlainObject(value) || Array.isArray(value) || value instanceof Date) return undefined;
  const toString = (value as { toString?: unknown }).toString;
  if (typeof toString === "function" && toString !== Object.prototype.toString) {
    return String((toString as () => unknown).call(value));
  }
  return undefined;
}

/** Go's name for a value's type, for error messages. */
export function goTypeName(value: unknown): string {
  if (value === undefined) return "<nil>";
  if (value === null) return "interface {}";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float64";
  if (Array.isArray(value)) return "[]interface {}";
  if (value instanceof Date) return "time.Time";
  const name = structName(value);
  if (name) return name;
  if (typeof value === "function") return "func";
  return "map[string]interface {}";
}

/**
 * Go's %v for a number. Integers print as integers (the fields docker templates see are
 * int64); other values as a float64 does (strconv 'g', shortest, %e from exponent 6 or < -4).
 */
export function formatGoNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const exp = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 6) {
    const [mant = "", e = "0"] = n.toExponential().split("e");
    const ev = Number(e);
    return `${mant}e${ev < 0 ? "-" : "+"}${String(Math.abs(ev)).padStart(2, "0")}`;
  }
  return String(n);
}

/** Go's time.Time.String(): `2024-01-01 00:00:00 +0000 UTC`. */
function goTimeString(d: Date): string {
  const iso = d.toISOString();
  let frac = iso.slice(20, 23).replace(/0+$/, "");
  frac = frac ? `.${frac}` : "";
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

/** Go's fmt %v. `undefined` is a missing value (`<no value>` at top level, `<nil>` inside). */
export function formatGoValue(value: unknown, top = true): string {
  if (value === undefined) return top ? "<no value>" : "<nil>";
  if (value === null) return "<nil>";
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return formatGoNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "function":
      return "0x0";
    case "object":
      break;
    default:
      return (value as symbol).toString();
  }
  if (value instanceof Date) return goTimeString(value);
  if (Array.isArray(value)) return `[${value.map((v) => formatGoValue(v, false)).join(" ")}]`;
  const stringer = stringerText(value);
  if (stringer !== undefined) return stringer;
  if (structName(value)) {
    return `{${Object.values(value)
      .map((v) => formatGoValue(v, false))
      .join(" ")}}`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareGoStrings);
  return `map[${keys.map((k) => `${k}:${formatGoValue(obj[k], false)}`).join(" ")}]`;
}

export function compareGoStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Go's time.RFC3339Nano for a Date (UTC): fractional seconds without trailing zeros. */
export function formatRFC3339Nano(d: Date): string {
  const iso = d.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ""}Z`;
}

function quoteJsonString(s: string): string {
  return JSON.stringify(s)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** encoding/json with SetEscapeHTML(false): map keys sorted, struct fields in order. */
export function goJson(value: unknown): string {
  if (value === undefined || value === null) return "null";
  switch (typeof value) {
    case "string":
      return quoteJsonString(value);
    case "number":
      if (!Number.isFinite(value)) throw new Error(`json: unsupported value: ${formatGoNumber(value)}`);
      return String(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object":
      break;
    default:
      return "null";
  }
  if (value instanceof Date) return quoteJsonString(formatRFC3339Nano(value));
  if (Array.isArray(value)) return `[${value.map((v) => goJson(v)).join(",")}]`;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return goJson((toJSON as () => unknown).call(value));
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  if (!structName(value)) keys.sort(compareGoStrings);
  return `{${keys.map((k) => `${quoteJsonString(k)}:${goJson(obj[k])}`).join(",")}}`;
}

/** Go template truthiness: false, 0, nil, and empty strings/slices/maps are false. */
export function isTrue(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value) && !structName(value)) return Object.keys(value).length > 0;
  return true;
}
