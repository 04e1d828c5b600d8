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
  /** Waits `ms` (polling); resolves early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `listener` on Ctrl-C instead of exiting (a second Ctrl-C exits), until the returned
   * function is called.
   */
  onInterrupt(listener: () => void): () => void;
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
    sleep,
    onInterrupt,
    exitCode: 0,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function onInterrupt(listener: () => void): () => void {
  let interrupted = false;
  const handler = () => {
    // The first Ctrl-C is the command's to handle (cleanly); the second one is not negotiable.
    if (interrupted) process.exit(130);
    interrupted = true;
    listener();
  };
  process.on("SIGINT", handler);
  return () => void process.off("SIGINT", handler);
}

/** Paths given on the command line are relative to where the user ran `berth`. */
export function userPath(rt: Runtime, path: string): string {
  return isAbsolute(path) ? path : resolve(rt.io.cwd, path);
}

export type { BerthApi };
