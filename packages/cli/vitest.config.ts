import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@berth/fixtures/global-setup", "@berth/testkit/global-setup"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
