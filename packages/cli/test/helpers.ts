import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import type { BerthApi } from "../src/api";
import type { Env } from "../src/env";
import { run } from "../src/program";
import { createRuntime, type Runtime } from "../src/runtime";

export class Capture extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  get text() {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** Every API method fails unless the test provides it. */
export function fakeApi(overrides: Partial<BerthApi> = {}): BerthApi {
  const missing = (name: string) => () => Promise.reject(new Error(`unexpected call: ${name}`));
  return {
    url: "http://berth.test",
    hasToken: true,
    buildImage: missing("buildImage"),
    login: missing("login"),
    revokeToken: missing("revokeToken"),
    listImages: missing("listImages"),
    inspectImages: missing("inspectImages"),
    history: missing("history"),
    tag: missing("tag"),
    remove: missing("remove"),
    prune: missing("prune"),
    diskUsage: missing("diskUsage"),
    audit: missing("audit"),
    auditExport: missing("auditExport"),
    auditArchive: missing("auditArchive"),
    auditVerify: missing("auditVerify"),
    load: missing("load"),
    save: missing("save"),
    importImage: missing("importImage"),
    commitImage: missing("commitImage"),
    pullImage: missing("pullImage"),
    pushImage: missing("pushImage"),
    getJob: missing("getJob"),
    cancelJob: missing("cancelJob"),
    registries: {
      list: missing("registries.list"),
      save: missing("registries.save"),
      remove: missing("registries.remove"),
      login: missing("registries.login"),
      logout: missing("registries.logout"),
      testMirror: missing("registries.testMirror"),
      daemonJson: missing("registries.daemonJson"),
    },
    protection: {
      rules: missing("protection.rules"),
      add: missing("protection.add"),
      remove: missing("protection.remove"),
      pin: missing("protection.pin"),
      unpin: missing("protection.unpin"),
    },
    publicNamespaces: {
      list: missing("publicNamespaces.list"),
      add: missing("publicNamespaces.add"),
      remove: missing("publicNamespaces.remove"),
    },
    people: {
      users: missing("people.users"),
      invite: missing("people.invite"),
      disable: missing("people.disable"),
      enable: missing("people.enable"),
      resetPassword: missing("people.resetPassword"),
      setRole: missing("people.setRole"),
      setGrant: missing("people.setGrant"),
      removeGrant: missing("people.removeGrant"),
      tokens: missing("people.tokens"),
      createToken: missing("people.createToken"),
      createRobot: missing("people.createRobot"),
      revokeToken: missing("people.revokeToken"),
    },
    searchRemote: missing("searchRemote"),
    ...overrides,
  };
}

export interface TestRun {
  code: number;
  stdout: string;
  stderr: string;
  rt: Runtime;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "berth-cli-test-"));
}

export async function runCli(
  argv: string[],
  opts: {
    api?: BerthApi;
    apiFor?: (url: string, token?: string) => BerthApi;
    stdin?: string | Buffer;
    stdinIsTTY?: boolean;
    stdoutIsTTY?: boolean;
    env?: Partial<Env>;
    cwd?: string;
    now?: Date;
    /** Receives the command's Ctrl-C listener (none are delivered otherwise). */
    onInterrupt?: (listener: () => void) => void;
  } = {},
): Promise<TestRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = opts.stdin === undefined ? Readable.from([]) : Readable.from([Buffer.from(opts.stdin)]);
  const cwd = opts.cwd ?? (await tempDir());
  const api = opts.api ?? fakeApi();
  const rt: Runtime = {
    io: {
      stdin,
      stdout,
      stderr,
      stdinIsTTY: opts.stdinIsTTY ?? false,
      stdoutIsTTY: opts.stdoutIsTTY ?? false,
      cwd,
    },
    env: { configPath: join(cwd, "config.json"), ...opts.env },
    now: () => opts.now ?? new Date("2024-01-08T00:00:00Z"),
    hostname: () => "testhost",
    api: () => Promise.resolve(api),
    apiFor: opts.apiFor ?? (() => api),
    // Polling does not wait in tests; a yield keeps the loop from starving other promises.
    sleep: () => new Promise((resolve) => setImmediate(resolve)),
    onInterrupt: (listener) => {
      opts.onInterrupt?.(listener);
      return () => undefined;
    },
    exitCode: 0,
  };
  const code = await run(argv, rt);
  return { code, stdout: stdout.text, stderr: stderr.text, rt };
}

/** Runs `berth argv…` in-process against a real server, with its own config file in `dir`. */
export async function berthAgainst(server: { url: string }, dir: string, argv: string[], stdin = "") {
  const stdout = new Capture();
  const stderr = new Capture();
  const rt = createRuntime(
    { stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr, stdinIsTTY: false, stdoutIsTTY: false, cwd: dir },
    { url: server.url, configPath: join(dir, "config.json") },
  );
  const code = await run(argv, rt);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
