import { describe, expect, it } from "vitest";

import { formatGoDuration, parseGoDuration } from "../src/build/dockerfile/duration";
import { goList, goQuote, goQuoteList, goQuoteRune } from "../src/build/dockerfile/go-format";

// Expected values are what Go's time and fmt packages print.
describe("Go durations", () => {
  const parsed: [string, number][] = [
    ["0", 0],
    ["30s", 30e9],
    ["1m30s", 90e9],
    ["1.5h", 5400e9],
    ["+2h45m", 9900e9],
    ["-1s", -1e9],
    ["300ms", 300e6],
    ["10us", 10e3],
    ["10µs", 10e3],
    ["7ns", 7],
    [".5s", 500e6],
    ["1.s", 1e9],
  ];
  it.each(parsed)("parses %s", (text, ns) => {
    expect(parseGoDuration(text)).toBe(ns);
  });

  it("rejects what Go rejects", () => {
    expect(() => parseGoDuration("")).toThrow('time: invalid duration ""');
    expect(() => parseGoDuration("30")).toThrow('time: missing unit in duration "30"');
    expect(() => parseGoDuration("3d")).toThrow('time: unknown unit "d" in duration "3d"');
    expect(() => parseGoDuration("s")).toThrow('time: invalid duration "s"');
    expect(() => parseGoDuration("1m-2s")).toThrow("time: ");
  });

  const formatted: [number, string][] = [
    [0, "0s"],
    [30e9, "30s"],
    [90e9, "1m30s"],
    [3600e9, "1h0m0s"],
    [3723.5e9, "1h2m3.5s"],
    [500e6, "500ms"],
    [1.25e6, "1.25ms"],
    [1500, "1.5µs"],
    [7, "7ns"],
    [-90e9, "-1m30s"],
  ];
  it.each(formatted)("formats %d as %s", (ns, text) => {
    expect(formatGoDuration(ns)).toBe(text);
  });
});

describe("Go fmt verbs", () => {
  it("%q of strings and slices", () => {
    expect(goQuote('say "hi"\\n')).toBe('"say \\"hi\\"\\\\n"');
    expect(goQuote("tab\there\nnl\x00\x1b\x7f")).toBe('"tab\\there\\nnl\\x00\\x1b\\x7f"');
    expect(goQuote("café ☕")).toBe('"café ☕"');
    expect(goQuote("\u200b")).toBe('"\\u200b"');
    expect(goQuoteList(["/bin/sh", "-c", "echo 'a'"])).toBe(`["/bin/sh" "-c" "echo 'a'"]`);
    expect(goQuoteList([])).toBe("[]");
    expect(goQuoteList(null)).toBe("[]");
  });

  it("%q of an int is a rune literal", () => {
    expect(goQuoteRune(0)).toBe("'\\x00'");
    expect(goQuoteRune(3)).toBe("'\\x03'");
    expect(goQuoteRune(10)).toBe("'\\n'");
    expect(goQuoteRune(39)).toBe("'\\''");
    expect(goQuoteRune(65)).toBe("'A'");
  });

  it("%v of a slice", () => {
    expect(goList(["/data", "/logs"])).toBe("[/data /logs]");
    expect(goList([])).toBe("[]");
  });
});
