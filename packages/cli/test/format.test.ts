import { describe, expect, it } from "vitest";
import { ellipsis, humanDuration, humanSize, imageSize, parseFormat, renderTable, timeAgo, truncateId } from "../src/format";

describe("docker's units", () => {
  it("HumanSize / HumanSizeWithPrecision(3)", () => {
    expect(humanSize(0)).toBe("0B");
    expect(humanSize(1000)).toBe("1kB");
    expect(humanSize(1024)).toBe("1.024kB");
    expect(humanSize(1_234_567)).toBe("1.235MB");
    expect(imageSize(12_345_678)).toBe("12.3MB");
    expect(imageSize(999_900)).toBe("1e+03kB");
    expect(imageSize(4_500_000_000)).toBe("4.5GB");
  });
  it("HumanDuration", () => {
    expect(humanDuration(500)).toBe("Less than a second");
    expect(humanDuration(1000)).toBe("1 second");
    expect(humanDuration(90_000)).toBe("About a minute");
    expect(humanDuration(3_600_000)).toBe("About an hour");
    expect(humanDuration(3 * 86_400_000)).toBe("3 days");
    expect(humanDuration(21 * 86_400_000)).toBe("3 weeks");
    expect(humanDuration(90 * 86_400_000)).toBe("3 months");
    expect(humanDuration(800 * 86_400_000)).toBe("2 years");
    expect(timeAgo(null, new Date())).toBe("N/A");
  });
  it("IDs and ellipsis", () => {
    expect(truncateId(`sha256:${"ab".repeat(32)}`)).toBe("abababababab");
    expect(ellipsis("abcdef", 4)).toBe("abc…");
    expect(ellipsis("abc", 4)).toBe("abc");
  });
});

describe("table writer", () => {
  it("pads like tabwriter(minwidth 10, padding 3), last column unpadded", () => {
    expect(renderTable([["REPOSITORY", "TAG", "SIZE"], ["a", "latest", "1MB"]])).toBe(
      "REPOSITORY   TAG       SIZE\na            latest    1MB\n",
    );
  });
});

describe("--format", () => {
  it("recognises table, json and templates", () => {
    expect(parseFormat(undefined)).toEqual({ kind: "default" });
    expect(parseFormat("table")).toEqual({ kind: "table" });
    expect(parseFormat("json")).toEqual({ kind: "json" });
    expect(parseFormat("table {{.ID}}\\t{{.Size}}")).toEqual({ kind: "table", template: "{{.ID}}\t{{.Size}}" });
    expect(parseFormat("{{.ID}}")).toEqual({ kind: "template", template: "{{.ID}}" });
  });
});
