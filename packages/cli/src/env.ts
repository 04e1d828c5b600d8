import { homedir } from "node:os";
import { join } from "node:path";

/** Everything the CLI reads from the environment, read and checked in one place. */
export interface Env {
  /** Server URL from `BERTH_URL` (overrides the stored login). */
  url?: string;
  /** Token from `BERTH_TOKEN` (overrides the stored login). */
  token?: string;
  /** Where the stored login lives. */
  configPath: string;
  /** The user's working directory when started through `pnpm berth` (pnpm runs scripts in the package). */
  initCwd?: string;
  /** Other variables, read only by name (`build --build-arg NAME` takes NAME's value from here, like docker). */
  variable?: (name: string) => string | undefined;
}

export const DEFAULT_URL = "http://localhost:3000";

export class EnvError extends Error {}

function checkedUrl(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new EnvError(`${name} is not a valid URL: ${value}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new EnvError(`${name} must be an http:// or https:// URL: ${value}`);
  }
  return value;
}

// eslint-disable-next-line no-restricted-properties -- this file is the one place that reads the environment
export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const nonEmpty = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);
  const url = nonEmpty(env.BERTH_URL);
  const home = nonEmpty(env.HOME) ?? homedir();
  return {
    url: url ? checkedUrl("BERTH_URL", url) : undefined,
    token: nonEmpty(env.BERTH_TOKEN),
    configPath: nonEmpty(env.BERTH_CONFIG) ?? join(home, ".config", "berth", "config.json"),
    initCwd: env.npm_lifecycle_event === "berth" ? nonEmpty(env.INIT_CWD) : undefined,
    variable: (name) => env[name],
  };
}
