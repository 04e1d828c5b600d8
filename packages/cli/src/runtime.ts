import { hostname } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { createApi, type BerthApi } from "./api";
import { readLogin, resolveTarget } from "./config";
import type { Env } from "./env";
import type { Io } from "./output";

/** What commands get: streams, environment, clock and a lazily created API client. */
export interface Runtime {
  io: Io;
  env: Env;
  now(): Date;
  hostname(): string;
  /** Client for the effective server (`BERTH_URL`/`BERTH_TOKEN`, else the stored login). */
  api(): Promise<BerthApi>;
  /** Client for an explicit server and token (login). */
  apiFor(url: string, token?: string): BerthApi;
  /** Set by commands that finished but failed partly (docker's `rmi a b` with one error). */
  exitCode: number;
}

export function createRuntime(io: Io, env: Env): Runtime {
  return {
    io,
    env,
    now: () => new Date(),
    hostname: () => hostname(),
    api: async () => createApi(resolveTarget(env, await readLogin(env.configPath))),
    apiFor: (url, token) => createApi({ url, token }),
    exitCode: 0,
  };
}

/** Paths given on the command line are relative to where the user ran `berth`. */
export function userPath(rt: Runtime, path: string): string {
  return isAbsolute(path) ? path : resolve(rt.io.cwd, path);
}

export type { BerthApi };
