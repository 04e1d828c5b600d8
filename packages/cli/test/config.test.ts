import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { normalizeUrl, readLogin, removeLogin, resolveTarget, writeLogin } from "../src/config";
import { tempDir } from "./helpers";

describe("stored login", () => {
  it("round-trips with mode 0600 and creates the directory", async () => {
    const path = join(await tempDir(), "nested", "config.json");
    await writeLogin(path, { url: "http://localhost:3000", token: "brt_x", tokenId: "id1", username: "admin" });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readLogin(path)).toEqual({ url: "http://localhost:3000", token: "brt_x", tokenId: "id1", username: "admin" });
    await removeLogin(path);
    expect(await readLogin(path)).toBeUndefined();
  });

  it("normalizes server addresses", () => {
    expect(normalizeUrl("http://localhost:3000/")).toBe("http://localhost:3000");
    expect(normalizeUrl("localhost:3000")).toBe("http://localhost:3000");
    expect(normalizeUrl("berth.example.com")).toBe("https://berth.example.com");
    expect(normalizeUrl("https://x.example/berth/")).toBe("https://x.example/berth");
  });

  it("lets BERTH_URL / BERTH_TOKEN override, without sending a stored token elsewhere", () => {
    const stored = { url: "http://a:3000", token: "stored" };
    expect(resolveTarget({}, stored)).toEqual({ url: "http://a:3000", token: "stored" });
    expect(resolveTarget({}, undefined)).toEqual({ url: "http://localhost:3000", token: undefined });
    expect(resolveTarget({ url: "http://a:3000/" }, stored)).toEqual({ url: "http://a:3000", token: "stored" });
    expect(resolveTarget({ url: "http://b:3000" }, stored)).toEqual({ url: "http://b:3000", token: undefined });
    expect(resolveTarget({ url: "http://b:3000", token: "env" }, stored)).toEqual({ url: "http://b:3000", token: "env" });
  });
});
