import { describe, expect, it } from "vitest";

import { formatItems } from "../src/format/docker-format";
import { markStruct } from "../src/format/go-value";
import { TemplateError, executeTemplate } from "../src/format/template";

const run = (src: string, data: unknown) => executeTemplate(src, data);

describe("Go text/template: values as Go prints them", () => {
  it("fields, nested fields and $", () => {
    expect(run("{{.Name}} {{.Config.User}} {{$.Name}}", { Name: "app", Config: { User: "1000" } })).toBe("app 1000 app");
  });
  it("maps print as map[k:v] with sorted keys, slices as [a b]", () => {
    expect(run("{{.Labels}}", { Labels: { b: "2", a: "1" } })).toBe("map[a:1 b:2]");
    expect(run("{{.Tags}}", { Tags: ["a:1", "b:2"] })).toBe("[a:1 b:2]");
    expect(run("{{.E}} {{.M}}", { E: [], M: {} })).toBe("[] map[]");
    expect(run("{{.Nested}}", { Nested: { k: ["x", 1, true] } })).toBe("map[k:[x 1 true]]");
  });
  it("missing map keys print <no value>, nil prints <nil>", () => {
    expect(run("{{.Missing}}", {})).toBe("<no value>");
    expect(run("{{.A.B}}", {})).toBe("<no value>");
    expect(run("{{.N}}", { N: null })).toBe("<nil>");
  });
  it("numbers: integers plainly, floats as Go's %v", () => {
    expect(run("{{.S}} {{.F}} {{.B}}", { S: 123456789, F: 1.5, B: false })).toBe("123456789 1.5 false");
    expect(run("{{.F}}", { F: 1234567.5 })).toBe("1.2345675e+06");
  });
  it("structs keep their field order and reject unknown fields", () => {
    const ctx = markStruct({ ID: "abc", Size: "1MB" }, "*formatter.imageContext");
    expect(run("{{json .}}", ctx)).toBe('{"ID":"abc","Size":"1MB"}');
    expect(() => run("{{.Nope}}", ctx)).toThrow(
      'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.imageContext',
    );
  });
  it("methods are called like Go methods", () => {
    const ctx = { ID: () => "abc123", Upper: (s: unknown) => String(s).toUpperCase() };
    expect(run('{{.ID}} {{.Upper "x"}}', ctx)).toBe("abc123 X");
  });
});

describe("Go text/template: actions", () => {
  it("json sorts map keys and does not escape HTML", () => {
    expect(run("{{json .}}", { b: 1, a: "<x>&", c: null })).toBe('{"a":"<x>&","b":1,"c":null}');
    expect(run("{{json .L}}", { L: ["a"] })).toBe('["a"]');
  });
  it("range over slices, maps (sorted), with $i, $v and else", () => {
    expect(run("{{range .L}}[{{.}}]{{end}}", { L: ["a", "b"] })).toBe("[a][b]");
    expect(run("{{range $i, $v := .L}}{{$i}}={{$v}} {{end}}", { L: ["a", "b"] })).toBe("0=a 1=b ");
    expect(run("{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}", { M: { z: "1", a: "2" } })).toBe("a=2;z=1;");
    expect(run("{{range .L}}x{{else}}empty{{end}}", { L: [] })).toBe("empty");
    expect(run("{{range $v := .L}}{{if eq $v 2}}{{break}}{{end}}{{$v}}{{end}}", { L: [1, 2, 3] })).toBe("1");
    expect(run("{{range .L}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", { L: [1, 2, 3] })).toBe("13");
  });
  it("if / else if / else, with, and truthiness", () => {
    const t = "{{if .A}}a{{else if .B}}b{{else}}none{{end}}";
    expect(run(t, { A: "x" })).toBe("a");
    expect(run(t, { A: "", B: [1] })).toBe("b");
    expect(run(t, { A: 0, B: {} })).toBe("none");
    expect(run("{{with .C}}{{.User}}{{else}}no config{{end}}", { C: { User: "root" } })).toBe("root");
    expect(run("{{with .C}}{{.User}}{{else}}no config{{end}}", { C: null })).toBe("no config");
  });
  it("index, join, len, printf, println, upper/lower/title, split, pad, truncate", () => {
    const data = { M: { "com.example.k": "v" }, L: ["a", "b"], S: "hello world" };
    expect(run('{{index .M "com.example.k"}}', data)).toBe("v");
    expect(run('{{index .M "missing"}}', data)).toBe("");
    expect(run("{{index .L 1}}", data)).toBe("b");
    expect(() => run("{{index .L 5}}", data)).toThrow("error calling index: index out of range: 5");
    expect(run('{{join .L ","}}', data)).toBe("a,b");
    expect(run("{{len .L}} {{len .S}} {{len .M}}", data)).toBe("2 11 1");
    expect(run('{{printf "%s|%5s|%-4s|%d|%q|%v" .S "ab" "x" 42 "q" .L}}', data)).toBe('hello world|   ab|x   |42|"q"|[a b]');
    expect(run('{{printf "%.2f %x %t %%" 3.14159 255 true}}', data)).toBe("3.14 ff true %");
    expect(run('{{printf "%d"}} {{printf "%d" "s"}}', data)).toBe("%!d(MISSING) %!d(string=s)");
    expect(run("{{println .S 1}}", data)).toBe("hello world 1\n");
    expect(run('{{upper .S}} {{lower "AB"}} {{title .S}}', data)).toBe("HELLO WORLD ab Hello World");
    expect(run('{{split "a:b" ":"}}', data)).toBe("[a b]");
    expect(run('{{pad "x" 1 2}}|{{truncate .S 5}}', data)).toBe(" x  |hello");
  });
  it("pipelines pass the value as the last argument; parentheses group", () => {
    expect(run('{{.S | printf "<%s>"}}', { S: "x" })).toBe("<x>");
    expect(run('{{.L | len | printf "%d items"}}', { L: [1, 2] })).toBe("2 items");
    expect(run('{{(index .M "k").Name}}', { M: { k: { Name: "n" } } })).toBe("n");
  });
  it("eq/ne/lt/and/or/not", () => {
    expect(run('{{eq .A "x"}} {{eq .A "y" "x"}} {{ne .A "x"}} {{lt 1 2}} {{not .A}}', { A: "x" })).toBe("true true false true false");
    expect(run("{{and .A .B}}|{{or .B .A}}|{{and .A .C}}", { A: "a", B: "", C: "c" })).toBe("|a|c");
    expect(() => run('{{eq .N "1"}}', { N: 1 })).toThrow("error calling eq: incompatible types for comparison");
  });
  it("variables declare and assign, scoped to their block", () => {
    expect(run('{{$x := "a"}}{{if true}}{{$x = "b"}}{{end}}{{$x}}', {})).toBe("b");
    expect(() => run("{{if true}}{{$y := 1}}{{end}}{{$y}}", {})).toThrow(/undefined variable: \$y/);
  });
  it("trim markers and comments", () => {
    expect(run("a  {{- .X -}}  \n b", { X: 1 })).toBe("a1b");
    expect(run("a {{/* comment */}}b", {})).toBe("a b");
    expect(run("{{-3}}", {})).toBe("-3");
  });
  it("parse errors read like Go's", () => {
    expect(() => run("{{nope .X}}", {})).toThrow('template: :1: function "nope" not defined');
    expect(() => run("{{if .X}}", {})).toThrow(TemplateError);
    expect(() => run("{{.X", {})).toThrow("unclosed action");
  });
});

describe("formatItems: docker's --format handling", () => {
  const items = [
    { Repository: "redis", Tag: "7", ID: "0123456789ab", Size: "117MB" },
    { Repository: "fixtures/app", Tag: "1.0", ID: "ba9876543210", Size: "1.07MB" },
  ];
  const header = { Repository: "REPOSITORY", Tag: "TAG", ID: "IMAGE ID", Size: "SIZE" };

  it("a plain template prints one line per item", () => {
    expect(formatItems({ format: "{{.Repository}}:{{.Tag}}", items, header })).toBe("redis:7\nfixtures/app:1.0\n");
  });
  it("table prints a header from the header context and aligns like tabwriter(10,1,3)", () => {
    const out = formatItems({ format: "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.Size}}", items, header });
    expect(out).toBe(
      [
        "REPOSITORY     TAG       IMAGE ID       SIZE",
        "redis          7         0123456789ab   117MB",
        "fixtures/app   1.0       ba9876543210   1.07MB",
        "",
      ].join("\n"),
    );
  });
  it("table headers pass through docker's functions untouched", () => {
    expect(formatItems({ format: "table {{upper .Tag}}\t{{json .ID}}", items: [], header })).toBe("TAG       IMAGE ID\n");
  });
  it("`table` alone uses the default table format; `json` prints one object per line", () => {
    expect(formatItems({ format: "table", items: items.slice(0, 1), header, defaultTableFormat: "table {{.Tag}}" })).toBe("TAG\n7\n");
    expect(formatItems({ format: "json", items: [{ b: 1, a: 2 }] })).toBe('{"a":2,"b":1}\n');
  });
});
