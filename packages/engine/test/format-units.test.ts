import { describe, expect, it } from "vitest";

import { renderTable, tabwrite } from "../src/format/table";
import { bytesSize, createdSince, formatG, humanDuration, humanSize, humanSizeWithPrecision } from "../src/format/units";

describe("HumanSizeWithPrecision(size, 3) as docker images prints SIZE", () => {
  it.each([
    [0, "0B"],
    [999, "999B"],
    [1000, "1kB"],
    [12_345, "12.3kB"],
    [7_800_000, "7.8MB"],
    [1_073_741_824, "1.07GB"],
    [1_125_000, "1.12MB"], // Go rounds exact ties half to even
    [999_500, "1e+03kB"], // Go's %g switches to an exponent, and docker prints it
    [4_270_000, "4.27MB"],
  ])("%d → %s", (size, expected) => {
    expect(humanSizeWithPrecision(size, 3)).toBe(expected);
  });
  it("HumanSize uses 4 digits (docker system df)", () => {
    expect(humanSize(1_234_567)).toBe("1.235MB");
    expect(humanSize(0)).toBe("0B");
    expect(bytesSize(1536)).toBe("1.5KiB");
  });
  it("formatG matches Go's %g", () => {
    expect(formatG(0.0001234, 3)).toBe("0.000123");
    expect(formatG(0.00001234, 3)).toBe("1.23e-05");
    expect(formatG(100, 3)).toBe("100");
    expect(formatG(2.5, 1)).toBe("2");
  });
});

describe("HumanDuration as go-units words it", () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  it.each([
    [500, "Less than a second"],
    [1 * s, "1 second"],
    [45 * s, "45 seconds"],
    [61 * s, "About a minute"],
    [5 * m, "5 minutes"],
    [59 * m, "59 minutes"],
    [60 * m, "About an hour"],
    [89 * m, "About an hour"],
    [91 * m, "2 hours"],
    [47 * h, "47 hours"],
    [3 * d, "3 days"],
    [15 * d, "2 weeks"],
    [90 * d, "3 months"],
    [800 * d, "2 years"],
  ])("%d ms → %s", (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });
  it("createdSince appends ago, N/A without a time", () => {
    const now = new Date("2024-01-04T00:00:00Z");
    expect(createdSince(new Date("2024-01-01T00:00:00Z"), now)).toBe("3 days ago");
    expect(createdSince(null, now)).toBe("N/A");
  });
});

describe("tabwriter as docker tables use it", () => {
  it("pads every column to max(cell + 3, 10); the last cell is not padded", () => {
    expect(
      renderTable(
        ["REPOSITORY", "TAG", "SIZE"],
        [
          ["fixtures/app", "1.0", "1.07MB"],
          ["a", "latest", "0B"],
        ],
      ),
    ).toBe("REPOSITORY     TAG       SIZE\nfixtures/app   1.0       1.07MB\na              latest    0B\n");
  });
  it("a line without tabs ends a column block", () => {
    expect(tabwrite("a\tb\nno tabs here at all\nlonger-cell\tc\n")).toBe("a         b\nno tabs here at all\nlonger-cell   c\n");
  });
  it("counts characters, not bytes", () => {
    expect(tabwrite("é\tx\n")).toBe("é         x\n");
  });
});
