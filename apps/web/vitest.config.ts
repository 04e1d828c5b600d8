import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["@berth/fixtures/global-setup"],
    testTimeout: 240_000,
    hookTimeout: 300_000,
  },
});
