import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { fixtures } from "@berth/fixtures";

const run = promisify(execFile);
const policy = path.join(fixtures().out, ".cache/policy.json");

/**
 * Runs skopeo with the fixtures' trust policy; its stderr becomes the error. Asynchronous: the
 * server under test runs in this process, and a synchronous child would block it.
 */
export async function skopeo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("skopeo", ["--policy", policy, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    throw new Error(`skopeo ${args.join(" ")}: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
}
