import { describe, expect, it } from "vitest";
import {
  compileTemplate,
  ellipsis,
  formatItems,
  formattingContext,
  humanDuration,
  humanSize,
  imageSize,
  renderTable,
  timeAgo,
  truncateId,
} from "../src/format";

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
    expect(
      renderTable([
        ["REPOSITORY", "TAG", "SIZE"],
        ["a", "latest", "1MB"],
      ]),
    ).toBe("REPOSITORY   TAG       SIZE\na            latest    1MB\n");
  });
});

describe("--format (engine's Go templates)", () => {
  const items = [formattingContext({ Size: "1MB", ID: "abc" }, "*formatter.imageContext")];
  const columns = [
    { field: "ID" as const, header: "IMAGE ID" },
    { field: "Size" as const, header: "SIZE" },
  ];
  it("default table, table TEMPLATE, json and plain templates", () => {
    expect(formatItems(undefined, items, columns)).toBe("IMAGE ID   SIZE\nabc        1MB\n");
    expect(formatItems("table", items, columns)).toBe("IMAGE ID   SIZE\nabc        1MB\n");
    expect(formatItems("table {{.Size}}\\t{{.ID}}", items, columns)).toBe("SIZE      IMAGE ID\n1MB       abc\n");
    expect(formatItems("json", items, columns)).toBe('{"ID":"abc","Size":"1MB"}\n');
    expect(formatItems("{{.ID}}: {{.Size}}", items, columns)).toBe("abc: 1MB\n");
  });
  it("template errors read like docker's", () => {
    expect(() => formatItems("{{.Nope}}", items, columns)).toThrow(/can't evaluate field Nope/);
    expect(() => compileTemplate("{{.ID")).toThrow(/template/);
    expect(compileTemplate("{{json .Config}}")({ Config: { Cmd: ["a"] } })).toBe('{"Cmd":["a"]}');
  });
});
