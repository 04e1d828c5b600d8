import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@berth/testkit";
import { bootServer } from "../src/boot";
import { readServerEnv } from "../src/env";
import { signIn } from "../src/services/auth";

let database: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), "berth-boot-"));
});
afterAll(async () => {
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("first start", () => {
  it("prints a random admin password once, and it signs in", async () => {
    const lines: string[] = [];
    const first = await bootServer({ dataDir, blobDir: path.join(dataDir, "blobs"), databaseUrl: database.url, log: (l) => lines.push(l) });
    const printed = lines.join("\n").match(/created user "admin" with password: (\S+)/)?.[1];
    expect(printed).toBeDefined();
    const ctx = { services: first.services, actor: null, request: { ip: null, userAgent: null, interface: "web" as const } };
    await expect(signIn(ctx, "admin", printed!)).resolves.toMatchObject({ username: "admin" });
    await first.stop();

    const again: string[] = [];
    const second = await bootServer({
      dataDir,
      blobDir: path.join(dataDir, "blobs"),
      databaseUrl: database.url,
      log: (l) => again.push(l),
    });
    expect(again.join("\n")).not.toMatch(/password/);
    await second.stop();
  });

  it("names a bad setting instead of starting", () => {
    expect(() => readServerEnv({ PORT: "http" })).toThrow(/invalid settings: PORT/);
    expect(() => readServerEnv({ BERTH_ADMIN_PASSWORD: "short" })).toThrow(/BERTH_ADMIN_PASSWORD must be at least 8 characters/);
    const env = readServerEnv({ BERTH_DATA_DIR: "/srv/berth" });
    expect(env).toMatchObject({
      PORT: 3000,
      dataDir: "/srv/berth",
      blobDir: "/srv/berth/blobs",
      BERTH_LAYER_CHECK_INLINE_BYTES: 16 * 1024 * 1024,
    });
    expect(() => readServerEnv({ BERTH_LAYER_CHECK_INLINE_BYTES: "-1" })).toThrow(/invalid settings: BERTH_LAYER_CHECK_INLINE_BYTES/);
    expect(readServerEnv({ BERTH_DATA_DIR: "/srv/berth", BERTH_BLOB_DIR: "/mnt/blobs" }).blobDir).toBe("/mnt/blobs");
    // `pnpm start` runs inside apps/web; ./data means the directory the person ran it from.
    expect(readServerEnv({ INIT_CWD: "/home/me/berth" }).dataDir).toBe("/home/me/berth/data");
  });
});
