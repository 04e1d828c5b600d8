import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One PostgreSQL per run (unless DATABASE_URL is set); each test file makes its own databases.
    globalSetup: [fileURLToPath(new URL("../../tooling/testkit/src/global-setup.ts", import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
