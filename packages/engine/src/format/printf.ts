import { formatGoNumber, formatGoValue, goTypeName } from "./go-value";

/** Go's strconv.Quote (close enough for template output: JSON escapes plus Go's \a \b \v). */
export function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/\\u0007/g, "\\a")
    .replace(/\\u000b/g, "\\v")
    .replace(/\\u007f/g, "\\x7f");
}

/** Go's %g/%e with a precision: the shared digit formatting. */
function formatFloat(n: number, verb: string, prec: number | undefined, sharp: boolean): string {
  switch (verb) {
    case "f":
    case "F":
      return n.toFixed(prec ?? 6);
    case "e":
    case "E": {
      const s = goExponent(n.toExponential(prec ?? 6));
      return verb === "E" ? s.toUpperCase() : s;
    }
    case "g":
    case "G": {
      if (prec === undefined) return formatGoNumber(n);
      const p = prec === 0 ? 1 : prec;
      const exp = n === 0 ? 0 : Number(n.toExponential(p - 1).split("e")[1]);
      let s: string;
      if (exp < -4 || exp >= p) {
        s = goExponent(n.toExponential(p - 1));
        if (!sharp) s = s.replace(/\.?0+e/, "e");
      } else {
        s = n.toFixed(Math.max(0, p - 1 - exp));
        if (!sharp && s.includes(".")) s = s.replace(/\.?0+$/, "");
      }
      return verb === "G" ? s.toUpperCase() : s;
    }
    default:
      return String(n);
  }
}

function goExponent(s: string): string {
  return s.replace(/e([+-])(\d+)$/, (_m, sign: string, digits: string) => `e${sign}${digits.padStart(2, "0")}`);
}

function bad(verb: string, arg: unknown): string {
  return `%!${verb}(${goTypeName(arg)}=${formatGoValue(arg, false)})`;
}

/** Go's fmt.Sprintf for the verbs docker templates use. */
export function goSprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== "%") {
      out += c;
      continue;
    }
    i++;
    let minus = false;
    let plus = false;
    let zero = false;
    let space = false;
    let sharp = false;
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === "-") minus = true;
      else if (f === "+") plus = true;
      else if (f === "0") zero = true;
      else if (f === " ") space = true;
      else if (f === "#") sharp = true;
      else break;
    }
    let prec: number | undefined;
    const readNum = (): number | undefined => {
      if (format[i] === "*") {
        i++;
        const v = args[argi++];
        return typeof v === "number" ? v : undefined;
      }
      let digits = "";
      while (i < format.length && /[0-9]/.test(format[i] ?? "")) digits += format[i++];
      return digits ? Number(digits) : undefined;
    };
    const width = readNum();
    if (format[i] === ".") {
      i++;
      prec = readNum() ?? 0;
    }
    const verb = format[i];
    if (verb === undefined) {
      out += "%!(NOVERB)";
      break;
    }
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argi++];
    let s: string;
    switch (verb) {
      case "v":
        s = formatGoValue(arg, false);
        if (typeof arg === "number" && plus && arg >= 0) s = `+${s}`;
        break;
      case "s":
        s = typeof arg === "number" || typeof arg === "boolean" ? bad(verb, arg) : formatGoValue(arg, false);
        if (prec !== undefined) s = [...s].slice(0, prec).join("");
        break;
      case "q":
        s =
          typeof arg === "string"
            ? goQuote(arg)
            : Array.isArray(arg)
              ? `[${arg.map((a) => (typeof a === "string" ? goQuote(a) : formatGoValue(a, false))).join(" ")}]`
              : bad(verb, arg);
        break;
      case "d":
        if (typeof arg === "number" && Number.isInteger(arg)) {
          s = String(Math.abs(arg));
          if (prec !== undefined) s = s.padStart(prec, "0");
          s = (arg < 0 ? "-" : plus ? "+" : space ? " " : "") + s;
        } else s = bad(verb, arg);
        break;
      case "x":
      case "X":
        if (typeof arg === "number" && Number.isInteger(arg)) {
          s = (arg < 0 ? "-" : "") + (sharp ? "0x" : "") + Math.abs(arg).toString(16);
        } else if (typeof arg === "string") {
          s = Buffer.from(arg, "utf8").toString("hex");
        } else s = bad(verb, arg);
        if (verb === "X") s = s.toUpperCase();
        break;
      case "o":
        s = typeof arg === "number" && Number.isInteger(arg) ? arg.toString(8) : bad(verb, arg);
        break;
      case "b":
        s = typeof arg === "number" && Number.isInteger(arg) ? arg.toString(2) : bad(verb, arg);
        break;
      case "c":
        s = typeof arg === "number" ? String.fromCodePoint(arg) : bad(verb, arg);
        break;
      case "t":
        s = typeof arg === "boolean" ? String(arg) : bad(verb, arg);
        break;
      case "f":
      case "F":
      case "e":
      case "E":
      case "g":
      case "G":
        if (typeof arg === "number") {
          s = formatFloat(arg, verb, prec, sharp);
          if (plus && arg >= 0) s = `+${s}`;
          else if (space && arg >= 0) s = ` ${s}`;
        } else s = bad(verb, arg);
        break;
      case "T":
        s = goTypeName(arg);
        break;
      default:
        s = `%!${verb}(${goTypeName(arg)}=${formatGoValue(arg, false)})`;
    }
    if (width !== undefined && [...s].length < width) {
      const pad = width - [...s].length;
      if (minus) s += " ".repeat(pad);
      else if (zero && /[dfFeEgGxX]/.test(verb) && /^[+-]?[0-9]/.test(s)) {
        const sign = /^[+-]/.test(s) ? (s[0] ?? "") : "";
        s = sign + "0".repeat(pad) + s.slice(sign.length);
      } else s = " ".repeat(pad) + s;
    }
    out += s;
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => `${goTypeName(a)}=${formatGoValue(a, false)}`)
      .join(", ")})`;
  }
  return out;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function goSprint(args: readonly unknown[]): string {
  let out = "";
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += formatGoValue(arg, false);
  });
  return out;
}

/** fmt.Sprintln: always spaces, then a newline. */
export function goSprintln(args: readonly unknown[]): string {
  return `${args.map((a) => formatGoValue(a, false)).join(" ")}\n`;
}
