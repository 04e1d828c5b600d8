import { describe, expect, it } from "vitest";
import { formatLastUse } from "../src/lib/format";

describe("a token's last use", () => {
  const now = Date.parse("2026-11-27T12:00:00Z");
  it("is told to the minute, as the server keeps it", () => {
    expect(formatLastUse(new Date(now - 20_000), now)).toBe("within a minute");
    expect(formatLastUse(new Date(now - 120_000), now)).toBe("2 minutes ago");
    expect(formatLastUse(null, now)).toBe("never");
  });
});
