/**
 * A Go text/template interpreter: the subset docker's `--format` uses, with Go's output for
 * maps, slices and missing values. Parse once with `parseTemplate`, execute per item.
 */
import { InvalidArgumentError } from "../errors";
import { compareGoStrings, formatGoValue, goJson, goTypeName, isPlainObject, isTrue, structName } from "./go-value";
import { goQuote, goSprint, goSprintf, goSprintln } from "./printf";

export type TemplateFunc = (...args: unknown[]) => unknown;
export type FuncMap = Record<string, TemplateFunc>;

/** A template error, with Go's `template: :line:col: …` prefix. */
export class TemplateError extends InvalidArgumentError {}

// ---------------------------------------------------------------------------------------------
// Lexing

type Tok =
  | { k: "field"; name: string; sp: boolean; col: number }
  | { k: "dot"; sp: boolean; col: number }
  | { k: "var"; name: string; sp: boolean; col: number }
  | { k: "ident"; name: string; sp: boolean; col: number }
  | { k: "string"; v: string; sp: boolean; col: number }
  | { k: "number"; v: number; sp: boolean; col: number }
  | { k: "pipe" | "lparen" | "rparen" | "declare" | "assign" | "comma"; sp: boolean; col: number };

interface ActionItem {
  kind: "action";
  toks: Tok[];
  line: number;
  col: number;
  text: string;
}
type Item = { kind: "text"; text: string } | ActionItem;

const SPACE = /[ \t\r\n]/;
const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

function parseError(line: number, message: string): TemplateError {
  return new TemplateError(`template: :${line}: ${message}`);
}

function lexTemplate(src: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let trimNext = false;
  while (pos <= src.length) {
    const open = src.indexOf("{{", pos);
    let text = open === -1 ? src.slice(pos) : src.slice(pos, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
    trimNext = false;
    if (open === -1) {
      if (text) items.push({ kind: "text", text });
      break;
    }
    let start = open + 2;
    if (src[start] === "-" && SPACE.test(src[start + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      start += 2;
    }
    if (text) items.push({ kind: "text", text });
    const line = src.slice(0, open).split("\n").length;
    const col = open - src.lastIndexOf("\n", open - 1) - 1;
    // Find the closing delimiter, skipping over quoted strings.
    let i = start;
    let close = -1;
    while (i < src.length) {
      const c = src[i];
      if (c === '"' || c === "`" || c === "'") {
        const q = c;
        i++;
        while (i < src.length && src[i] !== q) {
          if (src[i] === "\\" && q !== "`") i++;
          if (src[i] === "\n" && q !== "`") throw parseError(line, "unterminated quoted string");
          i++;
        }
        if (i >= src.length) throw parseError(line, "unterminated quoted string");
        i++;
        continue;
      }
      if (c === "}" && src[i + 1] === "}") {
        close = i;
        break;
      }
      i++;
    }
    if (close === -1) throw parseError(line, "unclosed action");
    let end = close;
    if (src[close - 1] === "-" && SPACE.test(src[close - 2] ?? "") && close - 2 >= start) {
      trimNext = true;
      end = close - 2;
    }
    const inner = src.slice(start, end);
    pos = close + 2;
    const trimmed = inner.trim();
    if (trimmed.startsWith("/*")) {
      if (!trimmed.endsWith("*/")) throw parseError(line, "unclosed comment");
      continue;
    }
    items.push({ kind: "action", toks: lexAction(inner, line, col), line, col, text: inner.trim() });
  }
  return items;
}

function lexAction(s: string, line: number, col0: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let sp = true;
  while (i < s.length) {
    const c = s[i] ?? "";
    const col = col0 + 2 + i;
    if (SPACE.test(c)) {
      sp = true;
      i++;
      continue;
    }
    if (c === "." && IDENT_START.test(s[i + 1] ?? "")) {
      let j = i + 1;
      while (j < s.length && IDENT_CHAR.test(s[j] ?? "")) j++;
      toks.push({ k: "field", name: s.slice(i + 1, j), sp, col });
      i = j;
    } else if (c === "." && !/[0-9]/.test(s[i + 1] ?? "")) {
      toks.push({ k: "dot", sp, col });
      i++;
    } else if (c === "$") {
      let j = i + 1;
      while (j < s.length && IDENT_CHAR.test(s[j] ?? "")) j++;
      toks.push({ k: "var", name: s.slice(i, j), sp, col });
      i = j;
    } else if (IDENT_START.test(c)) {
      let j = i;
      while (j < s.length && IDENT_CHAR.test(s[j] ?? "")) j++;
      toks.push({ k: "ident", name: s.slice(i, j), sp, col });
      i = j;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      const raw = s.slice(i, j + 1);
      let v: string;
      try {
        v = JSON.parse(
          raw
            .replace(/\\a/g, "\\u0007")
            .replace(/\\v/g, "\\u000b")
            .replace(/\\x([0-9a-fA-F]{2})/g, "\\u00$1"),
        ) as string;
      } catch {
        throw parseError(line, `bad quoted string ${raw}`);
      }
      toks.push({ k: "string", v, sp, col });
      i = j + 1;
    } else if (c === "`") {
      const j = s.indexOf("`", i + 1);
      toks.push({ k: "string", v: s.slice(i + 1, j), sp, col });
      i = j + 1;
    } else if (c === "'") {
      const j = s.indexOf("'", i + 1);
      const ch = JSON.parse(`"${s.slice(i + 1, j).replace(/\\'/g, "'")}"`) as string;
      toks.push({ k: "number", v: ch.codePointAt(0) ?? 0, sp, col });
      i = j + 1;
    } else if (/[0-9+\-.]/.test(c)) {
      const m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/.exec(s.slice(i));
      const text = m?.[0] ?? "";
      if (!text || text === "-" || text === "+") throw parseError(line, `unexpected "${c}" in command`);
      const clean = text.replace(/_/g, "");
      const v = /^[+-]?0[xXbBoO]/.test(clean) ? Number(clean.replace(/^([+-]?)/, "")) * (clean.startsWith("-") ? -1 : 1) : Number(clean);
      if (Number.isNaN(v)) throw parseError(line, `bad number syntax: "${text}"`);
      toks.push({ k: "number", v, sp, col });
      i += text.length;
    } else if (c === "|") {
      toks.push({ k: "pipe", sp, col });
      i++;
    } else if (c === "(") {
      toks.push({ k: "lparen", sp, col });
      i++;
    } else if (c === ")") {
      toks.push({ k: "rparen", sp, col });
      i++;
    } else if (c === ":" && s[i + 1] === "=") {
      toks.push({ k: "declare", sp, col });
      i += 2;
    } else if (c === "=") {
      toks.push({ k: "assign", sp, col });
      i++;
    } else if (c === ",") {
      toks.push({ k: "comma", sp, col });
      i++;
    } else {
      throw parseError(line, `unexpected "${c}" in command`);
    }
    sp = false;
  }
  return toks;
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Operand =
  | { t: "field"; chain: string[] }
  | { t: "dot" }
  | { t: "var"; name: string; chain: string[] }
  | { t: "func"; name: string }
  | { t: "const"; value: unknown }
  | { t: "nil" }
  | { t: "pipe"; pipe: Pipe; chain: string[] };

interface Command {
  args: Operand[];
}
interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Command[];
}
interface Pos {
  line: number;
  col: number;
  text: string;
}

type Node =
  | { type: "text"; text: string }
  | { type: "action"; pipe: Pipe; pos: Pos }
  | { type: "if" | "with" | "range"; pipe: Pipe; list: Node[]; elseList: Node[] | null; pos: Pos }
  | { type: "break" | "continue"; pos: Pos };

const KEYWORDS = new Set(["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"]);

class Parser {
  private idx = 0;
  private loopDepth = 0;

  constructor(
    private readonly items: Item[],
    private readonly funcs: FuncMap,
  ) {}

  parse(): Node[] {
    const { nodes, stop } = this.parseList();
    if (stop) throw parseError(stop.line, `unexpected {{${stop.text}}}`);
    return nodes;
  }

  /** Parses until {{end}} or {{else…}} (returned as `stop`) or the end of input. */
  private parseList(): { nodes: Node[]; stop?: ActionItem } {
    const nodes: Node[] = [];
    while (this.idx < this.items.length) {
      const item = this.items[this.idx++];
      if (!item) break;
      if (item.kind === "text") {
        nodes.push({ type: "text", text: item.text });
        continue;
      }
      const first = item.toks[0];
      const pos = { line: item.line, col: item.col, text: item.text };
      if (!first) throw parseError(item.line, "missing value for command");
      if (first.k === "ident" && KEYWORDS.has(first.name)) {
        switch (first.name) {
          case "end":
          case "else":
            return { nodes, stop: item };
          case "if":
          case "with":
          case "range":
            nodes.push(this.parseControl(first.name, item, 1));
            continue;
          case "break":
          case "continue":
            if (this.loopDepth === 0) throw parseError(item.line, `{{${first.name}}} outside {{range}}`);
            nodes.push({ type: first.name, pos });
            continue;
          default:
            throw parseError(item.line, `{{${first.name}}} is not supported`);
        }
      }
      nodes.push({ type: "action", pipe: this.parsePipeline(item, 0, false).pipe, pos });
    }
    return { nodes };
  }

  private parseControl(kind: "if" | "with" | "range", item: ActionItem, start: number): Node {
    const pos = { line: item.line, col: item.col, text: item.text };
    const { pipe } = this.parsePipeline(item, start, kind === "range");
    if (kind === "range") this.loopDepth++;
    const body = this.parseList();
    if (kind === "range") this.loopDepth--;
    if (!body.stop) throw parseError(item.line, `unexpected EOF`);
    let elseList: Node[] | null = null;
    const stopFirst = body.stop.toks[0];
    if (stopFirst?.k === "ident" && stopFirst.name === "else") {
      const next = body.stop.toks[1];
      if (next?.k === "ident" && (next.name === "if" || next.name === "with") && kind !== "range") {
        // {{else if …}} is {{else}}{{if …}}…{{end}} sharing the outer {{end}}.
        elseList = [this.parseControl(next.name, body.stop, 2)];
      } else {
        if (body.stop.toks.length > 1) throw parseError(body.stop.line, `unexpected ${body.stop.text} in else`);
        const rest = this.parseList();
        const endFirst = rest.stop?.toks[0];
        if (!rest.stop || endFirst?.k !== "ident" || endFirst.name !== "end") {
          throw parseError(rest.stop?.line ?? item.line, rest.stop ? `expected end; found {{${rest.stop.text}}}` : "unexpected EOF");
        }
        elseList = rest.nodes;
      }
    }
    return { type: kind, pipe, list: body.nodes, elseList, pos };
  }

  private parsePipeline(item: ActionItem, start: number, isRange: boolean): { pipe: Pipe; end: number } {
    const toks = item.toks;
    let i = start;
    const decl: string[] = [];
    let assign = false;
    // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
    const t0 = toks[i];
    const t1 = toks[i + 1];
    if (t0?.k === "var" && (t1?.k === "declare" || t1?.k === "assign")) {
      decl.push(t0.name);
      assign = t1.k === "assign";
      i += 2;
    } else if (isRange && t0?.k === "var" && t1?.k === "comma" && toks[i + 2]?.k === "var" && toks[i + 3]?.k === "declare") {
      const second = toks[i + 2] as { name: string };
      decl.push(t0.name, second.name);
      i += 4;
    }
    const cmds: Command[] = [];
    for (;;) {
      const args: Operand[] = [];
      while (i < toks.length) {
        const t = toks[i];
        if (!t || t.k === "pipe" || t.k === "rparen") break;
        const r = this.parseOperand(item, i);
        args.push(r.op);
        i = r.end;
      }
      if (args.length === 0) throw parseError(item.line, "missing value for command");
      cmds.push({ args });
      if (toks[i]?.k === "pipe") {
        i++;
        continue;
      }
      break;
    }
    return { pipe: { decl, assign, cmds }, end: i };
  }

  private parseOperand(item: ActionItem, i: number): { op: Operand; end: number } {
    const toks = item.toks;
    const t = toks[i];
    if (!t) throw parseError(item.line, "missing value for command");
    let op: Operand;
    let end = i + 1;
    switch (t.k) {
      case "field":
        op = { t: "field", chain: [t.name] };
        break;
      case "dot":
        op = { t: "dot" };
        break;
      case "var":
        op = { t: "var", name: t.name, chain: [] };
        break;
      case "string":
        op = { t: "const", value: t.v };
        break;
      case "number":
        op = { t: "const", value: t.v };
        break;
      case "ident":
        if (t.name === "true" || t.name === "false") op = { t: "const", value: t.name === "true" };
        else if (t.name === "nil") op = { t: "nil" };
        else if (KEYWORDS.has(t.name)) throw parseError(item.line, `unexpected <${t.name}> in command`);
        else if (!Object.hasOwn(this.funcs, t.name)) throw parseError(item.line, `function "${t.name}" not defined`);
        else op = { t: "func", name: t.name };
        break;
      case "lparen": {
        const r = this.parsePipeline(item, i + 1, false);
        if (toks[r.end]?.k !== "rparen") throw parseError(item.line, "unclosed left paren");
        op = { t: "pipe", pipe: r.pipe, chain: [] };
        end = r.end + 1;
        break;
      }
      default:
        throw parseError(item.line, `unexpected "${tokText(t)}" in operand`);
    }
    // Field chains: `.A.B`, `$x.A`, `(pipe).A` (no space between the parts).
    while (end < toks.length) {
      const next = toks[end];
      if (next?.k !== "field" || next.sp) break;
      if (op.t === "field" || op.t === "var" || op.t === "pipe") op.chain.push(next.name);
      else throw parseError(item.line, `unexpected . after term "${tokText(t)}"`);
      end++;
    }
    return { op, end };
  }
}

function tokText(t: Tok): string {
  switch (t.k) {
    case "field":
      return `.${t.name}`;
    case "var":
    case "ident":
      return t.name;
    case "string":
      return goQuote(t.v);
    case "number":
      return String(t.v);
    case "dot":
      return ".";
    case "pipe":
      return "|";
    case "lparen":
      return "(";
    case "rparen":
      return ")";
    case "declare":
      return ":=";
    case "assign":
      return "=";
    case "comma":
      return ",";
  }
}

// ---------------------------------------------------------------------------------------------
// Functions

function lenOf(v: unknown): number {
  if (typeof v === "string") return Buffer.byteLength(v, "utf8");
  if (Array.isArray(v)) return v.length;
  if (isPlainObject(v) && !structName(v)) return Object.keys(v).length;
  throw new Error(`len of type ${goTypeName(v)}`);
}

function indexOf(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const key of keys) {
    if (v === undefined || v === null) throw new Error("index of untyped nil");
    if (Array.isArray(v) || typeof v === "string") {
      if (typeof key !== "number" || !Number.isInteger(key)) throw new Error(`cannot index slice/array with type ${goTypeName(key)}`);
      if (key < 0 || key >= v.length) throw new Error(`index out of range: ${key}`);
      v = typeof v === "string" ? Buffer.from(v, "utf8")[key] : v[key];
    } else if (isPlainObject(v) && !structName(v)) {
      const map = v;
      if (typeof key !== "string") throw new Error(`value has type ${goTypeName(key)}; should be string`);
      if (Object.hasOwn(map, key)) v = map[key];
      else {
        // A missing key gives the zero value: "" for string maps (labels), no value otherwise.
        const values = Object.values(map);
        v = values.length > 0 && values.every((x) => typeof x === "string") ? "" : undefined;
      }
    } else {
      throw new Error(`can't index item of type ${goTypeName(v)}`);
    }
  }
  return v;
}

function sliceOf(item: unknown, ...idx: unknown[]): unknown {
  if (typeof item !== "string" && !Array.isArray(item)) throw new Error(`can't slice item of type ${goTypeName(item)}`);
  const [a = 0, b = item.length] = idx as number[];
  if (a < 0 || b > item.length || a > b) throw new Error(`index out of range: ${a}`);
  return item.slice(a, b);
}

function basicKind(v: unknown): string {
  if (v === undefined || v === null) return "nil";
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return typeof v;
  return "complex";
}

function eq(a: unknown, ...others: unknown[]): boolean {
  if (others.length === 0) throw new Error("missing argument for comparison");
  const ka = basicKind(a);
  for (const b of others) {
    const kb = basicKind(b);
    if (ka === "nil" || kb === "nil") {
      if (ka === kb) return true;
      if (ka === "complex" || kb === "complex") continue;
      throw new Error("incompatible types for comparison");
    }
    if (ka === "complex" || kb === "complex") throw new Error("non-comparable type");
    if (ka !== kb) throw new Error("incompatible types for comparison");
    if (a === b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  if (ka !== basicKind(b)) throw new Error("incompatible types for comparison");
  if (ka !== "number" && ka !== "string") throw new Error("invalid type for comparison");
  return (a as number) < (b as number);
}

/** strings.Title: upper-cases the first letter of every word. */
export function goTitle(s: string): string {
  let prev = " ";
  let out = "";
  for (const ch of s) {
    out += isGoSeparator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function isGoSeparator(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0;
  if (code <= 0x7f) return !/[A-Za-z0-9_]/.test(ch);
  if (/[\p{L}\p{N}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => ({ "&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "\0": "\uFFFD" })[c] ?? c);
}

function str(v: unknown): string {
  return typeof v === "string" ? v : formatGoValue(v, false);
}

/** Go's builtin template functions. `and`/`or` are evaluated lazily by the executor. */
export const GO_BUILTINS: FuncMap = {
  and: (...args) => args.find((a) => !isTrue(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => isTrue(a)) ?? args[args.length - 1],
  not: (a) => !isTrue(a),
  len: (a) => lenOf(a),
  index: (item, ...keys) => indexOf(item, ...keys),
  slice: (item, ...idx) => sliceOf(item, ...idx),
  print: (...args) => goSprint(args),
  printf: (format, ...args) => goSprintf(str(format), args),
  println: (...args) => goSprintln(args),
  eq: (a, ...b) => eq(a, ...b),
  ne: (a, b) => !eq(a, b),
  lt: (a, b) => lt(a, b),
  le: (a, b) => lt(a, b) || eq(a, b),
  gt: (a, b) => !lt(a, b) && !eq(a, b),
  ge: (a, b) => !lt(a, b),
  html: (...args) => htmlEscape(goSprint(args)),
  js: (...args) => JSON.stringify(goSprint(args)).slice(1, -1).replace(/'/g, "\\'").replace(/</g, "\\u003C").replace(/>/g, "\\u003E"),
  urlquery: (...args) => encodeURIComponent(goSprint(args)).replace(/%20/g, "+"),
};

/** docker/cli templates.basicFunctions. */
export const DOCKER_FUNCS: FuncMap = {
  json: (v) => goJson(v),
  split: (s, sep) => str(s).split(str(sep)),
  join: (list, sep) => {
    if (!Array.isArray(list)) throw new Error(`wrong type for value; expected []string; got ${goTypeName(list)}`);
    return list.map(str).join(str(sep));
  },
  title: (s) => goTitle(str(s)),
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  pad: (s, left, right) => " ".repeat(Number(left)) + str(s) + " ".repeat(Number(right)),
  truncate: (s, n) => {
    const v = str(s);
    return v.length < Number(n) ? v : v.slice(0, Number(n));
  },
};

/** docker/cli templates.HeaderFunctions: while rendering a table header, these pass text through. */
export const DOCKER_HEADER_FUNCS: FuncMap = {
  json: (v) => v,
  split: (v) => v,
  join: (v) => v,
  title: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  pad: (v) => v,
  truncate: (v) => v,
};

// ---------------------------------------------------------------------------------------------
// Execution

class BreakSignal extends Error {}
class ContinueSignal extends Error {}

interface Scope {
  vars: { name: string; value: unknown }[];
  funcs: FuncMap;
  out: string[];
  pos: Pos;
}

class ExecError extends Error {}

export class Template {
  constructor(
    readonly source: string,
    private readonly nodes: Node[],
    private readonly funcs: FuncMap,
  ) {}

  /** Runs the template over `data`. `funcs` replaces functions by name (e.g. header functions). */
  execute(data: unknown, funcs?: FuncMap): string {
    const scope: Scope = {
      vars: [{ name: "$", value: data }],
      funcs: { ...this.funcs, ...funcs },
      out: [],
      pos: { line: 1, col: 0, text: "" },
    };
    try {
      this.walkList(scope, this.nodes, data);
    } catch (e) {
      if (e instanceof ExecError) {
        throw new TemplateError(`template: :${scope.pos.line}:${scope.pos.col + 2}: executing "" at <${scope.pos.text}>: ${e.message}`);
      }
      throw e;
    }
    return scope.out.join("");
  }

  private walkList(scope: Scope, nodes: Node[], dot: unknown): void {
    for (const node of nodes) this.walk(scope, node, dot);
  }

  private walk(scope: Scope, node: Node, dot: unknown): void {
    switch (node.type) {
      case "text":
        scope.out.push(node.text);
        return;
      case "action": {
        scope.pos = node.pos;
        const value = this.evalPipe(scope, node.pipe, dot);
        if (node.pipe.decl.length === 0) scope.out.push(formatGoValue(value));
        return;
      }
      case "break":
        throw new BreakSignal();
      case "continue":
        throw new ContinueSignal();
      case "if":
      case "with": {
        scope.pos = node.pos;
        const mark = scope.vars.length;
        const value = this.evalPipe(scope, node.pipe, dot);
        if (isTrue(value)) this.walkList(scope, node.list, node.type === "with" ? value : dot);
        else if (node.elseList) this.walkList(scope, node.elseList, dot);
        scope.vars.length = mark;
        return;
      }
      case "range": {
        scope.pos = node.pos;
        const mark = scope.vars.length;
        const decl = node.pipe.decl;
        const value = this.evalPipe(scope, { ...node.pipe, decl: [] }, dot);
        const entries = rangeEntries(value);
        if (entries.length === 0) {
          if (node.elseList) this.walkList(scope, node.elseList, dot);
          return;
        }
        for (const [key, elem] of entries) {
          if (decl.length === 1) scope.vars.push({ name: decl[0] ?? "", value: elem });
          else if (decl.length === 2) scope.vars.push({ name: decl[0] ?? "", value: key }, { name: decl[1] ?? "", value: elem });
          try {
            this.walkList(scope, node.list, elem);
          } catch (e) {
            if (e instanceof BreakSignal) {
              scope.vars.length = mark;
              break;
            }
            if (!(e instanceof ContinueSignal)) throw e;
          }
          scope.vars.length = mark;
        }
        return;
      }
    }
  }

  private evalPipe(scope: Scope, pipe: Pipe, dot: unknown): unknown {
    let value: unknown = undefined;
    pipe.cmds.forEach((cmd, i) => {
      value = this.evalCommand(scope, cmd, dot, i > 0 ? { value } : undefined);
    });
    if (pipe.decl.length > 0) {
      const name = pipe.decl[0] ?? "";
      if (pipe.assign) {
        const v = [...scope.vars].reverse().find((x) => x.name === name);
        if (!v) throw new ExecError(`undefined variable: ${name}`);
        v.value = value;
      } else {
        scope.vars.push({ name, value });
      }
    }
    return value;
  }

  private evalCommand(scope: Scope, cmd: Command, dot: unknown, final?: { value: unknown }): unknown {
    const [first, ...rest] = cmd.args;
    if (!first) throw new ExecError("missing value for command");
    if (first.t === "func") {
      const fn = scope.funcs[first.name];
      if (!fn) throw new ExecError(`"${first.name}" is not a defined function`);
      if (first.name === "and" || first.name === "or") return this.evalLogic(scope, first.name, rest, dot, final);
      const args = rest.map((a) => this.evalArg(scope, a, dot));
      if (final) args.push(final.value);
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof ExecError) throw e;
        throw new ExecError(`error calling ${first.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const extra = rest.map((a) => this.evalArg(scope, a, dot));
    if (final) extra.push(final.value);
    switch (first.t) {
      case "field":
        return this.evalChain(dot, first.chain, extra);
      case "var":
        return this.evalChain(this.lookupVar(scope, first.name), first.chain, extra);
      case "pipe":
        return this.evalChain(this.evalPipe(scope, first.pipe, dot), first.chain, extra);
      default:
        if (extra.length > 0) throw new ExecError(`can't give argument to non-function ${operandText(first)}`);
        return this.evalArg(scope, first, dot);
    }
  }

  private evalLogic(scope: Scope, name: "and" | "or", args: Operand[], dot: unknown, final?: { value: unknown }): unknown {
    const thunks: (() => unknown)[] = args.map((a) => () => this.evalArg(scope, a, dot));
    if (final) thunks.push(() => final.value);
    if (thunks.length === 0) throw new ExecError(`wrong number of args for ${name}: want at least 1 got 0`);
    let v: unknown;
    for (const thunk of thunks) {
      v = thunk();
      if (name === "and" ? !isTrue(v) : isTrue(v)) return v;
    }
    return v;
  }

  private evalArg(scope: Scope, op: Operand, dot: unknown): unknown {
    switch (op.t) {
      case "dot":
        return dot;
      case "const":
        return op.value;
      case "nil":
        return null;
      case "field":
        return this.evalChain(dot, op.chain, []);
      case "var":
        return this.evalChain(this.lookupVar(scope, op.name), op.chain, []);
      case "pipe":
        return this.evalChain(this.evalPipe(scope, op.pipe, dot), op.chain, []);
      case "func":
        return this.evalCommand(scope, { args: [op] }, dot);
    }
  }

  private lookupVar(scope: Scope, name: string): unknown {
    for (let i = scope.vars.length - 1; i >= 0; i--) {
      const v = scope.vars[i];
      if (v?.name === name) return v.value;
    }
    throw new ExecError(`undefined variable: ${name}`);
  }

  private evalChain(receiver: unknown, chain: string[], args: unknown[]): unknown {
    let value = receiver;
    chain.forEach((name, i) => {
      const last = i === chain.length - 1;
      value = evalField(value, name, last ? args : []);
    });
    if (chain.length === 0 && args.length > 0) throw new ExecError("can't give argument to non-function");
    return value;
  }
}

function evalField(receiver: unknown, name: string, args: unknown[]): unknown {
  if (receiver === undefined || receiver === null) {
    if (args.length > 0) throw new ExecError(`nil pointer evaluating interface {}.${name}`);
    return undefined;
  }
  if (typeof receiver !== "object" || Array.isArray(receiver)) {
    throw new ExecError(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }
  const obj = receiver as Record<string, unknown>;
  const struct = structName(receiver);
  const plain = isPlainObject(receiver);
  const has = plain || struct ? Object.hasOwn(obj, name) : name in obj;
  if (!has) {
    if (struct || !plain) throw new ExecError(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    if (args.length > 0) throw new ExecError(`${name} is not a method but has arguments`);
    return undefined;
  }
  const value = obj[name];
  if (typeof value === "function") return (value as TemplateFunc).apply(receiver, args);
  if (args.length > 0) throw new ExecError(`${name} has arguments but cannot be invoked as function`);
  return value;
}

function rangeEntries(value: unknown): [unknown, unknown][] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map((v, i) => [i, v]);
  if (typeof value === "number" && Number.isInteger(value)) return Array.from({ length: Math.max(0, value) }, (_, i) => [i, i]);
  if (isPlainObject(value) && !structName(value)) {
    return Object.keys(value)
      .sort(compareGoStrings)
      .map((k) => [k, value[k]]);
  }
  throw new ExecError(`range can't iterate over ${formatGoValue(value)}`);
}

function operandText(op: Operand): string {
  if (op.t === "const") return typeof op.value === "string" ? goQuote(op.value) : String(op.value);
  if (op.t === "nil") return "nil";
  return op.t;
}

/**
 * Parses a Go template. The function set is Go's builtins plus docker's (json, join, split,
 * title, lower, upper, pad, truncate) plus `funcs`. Throws TemplateError like Go's parser.
 */
export function parseTemplate(source: string, funcs?: FuncMap): Template {
  const all = { ...GO_BUILTINS, ...DOCKER_FUNCS, ...funcs };
  const nodes = new Parser(lexTemplate(source), all).parse();
  return new Template(source, nodes, all);
}

/** Parses and executes in one step. */
export function executeTemplate(source: string, data: unknown, funcs?: FuncMap): string {
  return parseTemplate(source, funcs).execute(data);
}
