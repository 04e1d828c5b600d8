/**
 * JSON as PostgreSQL's jsonb prints it, and a parser that keeps numbers as written, so a value read
 * back from jsonb text prints to the same text again (`1.50` stays `1.50`; JSON.parse would lose it).
 * Used to recompute audit hashes away from the database (packages/db/src/audit-canonical.ts).
 */

/** A JSON number kept as its source text. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = null | boolean | string | number | JsonNumber | JsonValue[] | JsonObject | { [key: string]: JsonValue };
/** Parsed objects keep their keys in a Map: any key is safe (`__proto__`), the last duplicate wins, as in jsonb. */
export type JsonObject = Map<string, JsonValue>;

const NUMBER_RE = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The text numeric_out prints for a JSON number, as jsonb stores numbers as `numeric`: no exponent,
 * as many decimals as the input had (less the exponent, at least 0), no negative zero.
 */
export function numericText(text: string): string {
  const m = NUMBER_RE.exec(text);
  if (!m) throw new SyntaxError(`invalid JSON number ${JSON.stringify(text)}`);
  const [, sign = "", int = "", frac = "", expText = "0"] = m;
  const exp = Number(expText);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 100_000) throw new RangeError(`JSON number out of range: ${text}`);
  const digits = int + frac;
  const point = int.length + exp;
  const scale = Math.max(0, frac.length - exp);
  let whole: string;
  let decimals: string;
  if (point <= 0) {
    whole = "0";
    decimals = "0".repeat(-point) + digits;
  } else if (point >= digits.length) {
    whole = digits + "0".repeat(point - digits.length);
    decimals = "";
  } else {
    whole = digits.slice(0, point);
    decimals = digits.slice(point);
  }
  decimals = decimals.slice(0, scale);
  whole = whole.replace(/^0+(?=\d)/, "");
  const zero = /^0*$/.test(whole + decimals);
  return `${zero ? "" : sign}${whole}${scale > 0 ? `.${decimals}` : ""}`;
}

/** escape_json: the two-character escapes, other control characters as \u00xx, everything else as is. */
export function jsonbString(value: string): string {
  let out = '"';
  for (const ch of value) {
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case "\\":
        out += "\\\\";
        break;
      case "\b":
        out += "\\b";
        break;
      case "\f":
        out += "\\f";
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\t":
        out += "\\t";
        break;
      default: {
        const code = ch.codePointAt(0) ?? 0;
        out += code < 0x20 ? `\\u${code.toString(16).padStart(4, "0")}` : ch;
      }
    }
  }
  return `${out}"`;
}

/** jsonb orders object keys by their length in bytes, then bytewise. */
function compareKeys(a: string, b: string): number {
  const la = Buffer.byteLength(a, "utf8");
  const lb = Buffer.byteLength(b, "utf8");
  if (la !== lb) return la - lb;
  // ASCII: UTF-16 order is byte order (the usual case, and much cheaper).
  if (la === a.length && lb === b.length) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function entriesOf(value: JsonObject | { [key: string]: JsonValue }): [string, JsonValue][] {
  if (value instanceof Map) return [...value.entries()];
  // JSON.stringify drops undefined members: so does the database.
  return Object.entries(value).filter(([, v]) => (v as unknown) !== undefined);
}

/** The text PostgreSQL prints for `value::jsonb`: `{"a": 1, "b": [true, null]}`. */
export function jsonbText(value: JsonValue): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return jsonbString(value);
  if (typeof value === "number") return Number.isFinite(value) ? numericText(JSON.stringify(value)) : "null";
  if (value instanceof JsonNumber) return numericText(value.text);
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(", ")}]`;
  const entries = entriesOf(value).sort(([a], [b]) => compareKeys(a, b));
  return `{${entries.map(([k, v]) => `${jsonbString(k)}: ${jsonbText(v)}`).join(", ")}}`;
}

/** Parses JSON text, keeping numbers as JsonNumber and objects as Maps. Throws SyntaxError. */
export function parseJsonText(text: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${i}`);
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const literal = (word: string, value: JsonValue): JsonValue => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail("unexpected token");
  };
  const string = (): string => {
    i++; // opening quote
    let out = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const ch = text[i++]!;
      if (ch === '"') return out;
      if (ch.charCodeAt(0) < 0x20) fail("control character in string");
      if (ch !== "\\") {
        out += ch;
        continue;
      }
      const esc = text[i++];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (esc !== undefined && esc in simple) out += simple[esc];
      else if (esc === "u") {
        const hex = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("invalid \\u escape");
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else fail("invalid escape");
    }
  };
  const value = (): JsonValue => {
    space();
    const ch = text[i];
    if (ch === "{") {
      i++;
      const object: JsonObject = new Map();
      space();
      if (text[i] === "}") {
        i++;
        return object;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail("expected a key");
        const key = string();
        space();
        if (text[i++] !== ":") fail("expected ':'");
        object.set(key, value());
        space();
        const next = text[i++];
        if (next === "}") return object;
        if (next !== ",") fail("expected ',' or '}'");
      }
    }
    if (ch === "[") {
      i++;
      const array: JsonValue[] = [];
      space();
      if (text[i] === "]") {
        i++;
        return array;
      }
      for (;;) {
        array.push(value());
        space();
        const next = text[i++];
        if (next === "]") return array;
        if (next !== ",") fail("expected ',' or ']'");
      }
    }
    if (ch === '"') return string();
    if (ch === "t") return literal("true", true);
    if (ch === "f") return literal("false", false);
    if (ch === "n") return literal("null", null);
    NUMBER_TOKEN.lastIndex = i;
    const m = NUMBER_TOKEN.exec(text);
    if (!m) return fail("unexpected token");
    i += m[0].length;
    return new JsonNumber(m[0]);
  };
  const result = value();
  space();
  if (i !== text.length) fail("unexpected text after the JSON value");
  return result;
}
