import { readFile, stat } from "node:fs/promises";
import { isAbsolute, relative, sep } from "node:path";
import { Readable } from "node:stream";
import type { Command } from "commander";
import { dockerfileOnlyContext, humanSize, openDirectoryContext, packContext } from "@berth/engine";
import type { PullJob } from "../api";
import { LocalError } from "../errors";
import { println } from "../output";
import type { Runtime } from "../runtime";
import { userPath } from "../runtime";
import { followJob } from "./follow-job";
import { act, collect } from "./shared";

export interface BuildOptions {
  tag: string[];
  file?: string;
  buildArg: string[];
  label: string[];
  target?: string;
  cache: boolean;
  platform?: string;
  quiet?: boolean;
}

/** Where a Dockerfile outside the context travels inside the uploaded tar (docker does the same with a random name). */
const OUTSIDE_DOCKERFILE = ".berth-dockerfile";
/** A failed job's last line repeats its error, which is printed once, on stderr. */
const ERROR_LINE = /^Error\b/;
const BUILT = /^Successfully built ([0-9a-f]{12})$/;

/** The lines of the build's output not printed before. */
export function buildPrinter(): (job: Pick<PullJob, "lines">) => string[] {
  let printed = 0;
  return ({ lines }) => {
    const fresh = lines.slice(printed);
    printed = lines.length;
    return fresh.filter((l) => !ERROR_LINE.test(l));
  };
}

/**
 * docker's `build PATH | -`: the directory is sent as a tar with .dockerignore applied (the
 * Dockerfile and .dockerignore always go), or stdin is the context tar or a lone Dockerfile.
 * The build runs as a server job; its output streams here as docker's classic builder prints it.
 */
export async function runBuildCommand(rt: Runtime, path: string, opts: BuildOptions): Promise<void> {
  const query = new URLSearchParams();
  for (const t of opts.tag) query.append("t", t);
  for (const a of opts.buildArg) query.append("buildarg", withEnvValue(rt, a));
  for (const l of opts.label) query.append("label", l);
  if (opts.target) query.set("target", opts.target);
  if (!opts.cache) query.set("nocache", "1");
  if (opts.platform) query.set("platform", opts.platform);

  let body: Readable;
  let cleanup = async () => {};
  if (path === "-") {
    if (rt.io.stdinIsTTY) throw new LocalError("requested build context from stdin, but stdin is empty");
    body = await stdinContext(rt.io.stdin);
  } else {
    const dir = userPath(rt, path);
    const info = await stat(dir).catch(() => undefined);
    if (!info) throw new LocalError(`unable to prepare context: path "${path}" not found`);
    if (!info.isDirectory()) throw new LocalError(`unable to prepare context: path "${path}" is not a directory`);
    let dockerfilePath = "Dockerfile";
    let outside: Buffer | undefined;
    if (opts.file) {
      const file = isAbsolute(opts.file) ? opts.file : userPath(rt, opts.file);
      const rel = relative(dir, file);
      if (rel.startsWith("..") || isAbsolute(rel)) {
        outside = await readFile(file).catch(() => {
          throw new LocalError(`unable to prepare context: unable to evaluate Dockerfile path: ${opts.file} not found`);
        });
        dockerfilePath = OUTSIDE_DOCKERFILE;
      } else dockerfilePath = rel.split(sep).join("/");
      query.set("f", dockerfilePath);
    }
    const context = await openDirectoryContext(dir, { dockerfilePath });
    cleanup = () => context.close();
    // docker's first line: what the context weighs once .dockerignore has left things out.
    if (!opts.quiet) println(rt.io.stdout, `Sending build context to Berth  ${humanSize(context.size)}`);
    body = packContext(context, {
      alwaysInclude: [dockerfilePath, ".dockerignore"],
      extra: outside ? { [OUTSIDE_DOCKERFILE]: outside } : {},
    });
  }
  try {
    const api = await rt.api();
    const { id } = await api.buildImage(body, query);
    let imageId: string | undefined;
    const print = buildPrinter();
    await followJob(rt, api, id, {
      kind: "build",
      quiet: false,
      print: (job) => {
        const lines = print(job);
        for (const l of lines) imageId = BUILT.exec(l)?.[1] ?? imageId;
        return opts.quiet ? [] : lines;
      },
    });
    if (opts.quiet && imageId) {
      const full = (await api.getJob(id)).result?.id;
      println(rt.io.stdout, typeof full === "string" ? full : imageId);
    }
  } finally {
    await cleanup();
  }
}

/** `--build-arg NAME` without a value takes NAME from the environment, as docker does. */
function withEnvValue(rt: Runtime, arg: string): string {
  if (arg.includes("=")) return arg;
  const value = rt.env.variable?.(arg);
  return value === undefined ? arg : `${arg}=${value}`;
}

/** stdin is either a tar (plain or compressed) or the text of a Dockerfile. */
async function stdinContext(stdin: NodeJS.ReadableStream): Promise<Readable> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  const data = Buffer.concat(chunks);
  const isTar = data.length >= 262 && data.subarray(257, 262).toString("latin1") === "ustar";
  const compressed = data[0] === 0x1f && data[1] === 0x8b;
  if (isTar || compressed) return Readable.from([data]);
  return dockerfileOnlyContext(data.toString("utf8"));
}

export function registerBuild(parent: Command, rt: Runtime, name: string): Command {
  return parent
    .command(name)
    .description("Build an image from a Dockerfile (without a daemon: RUN needs a runtime and stops the build)")
    .usage("[OPTIONS] PATH | -")
    .argument("<PATH | ->")
    .option("-t, --tag <name:tag>", 'Name and optionally a tag in the "name:tag" format', collect, [])
    .option("-f, --file <string>", "Name of the Dockerfile (Default is 'PATH/Dockerfile')")
    .option("--build-arg <KEY=VALUE>", "Set build-time variables", collect, [])
    .option("--label <KEY=VALUE>", "Set metadata for an image", collect, [])
    .option("--target <string>", "Set the target build stage to build")
    .option("--no-cache", "Do not use cache when building the image")
    .option("--platform <string>", "Set platform if server is multi-platform capable")
    .option("-q, --quiet", "Suppress the build output and print image ID on success")
    .action(act(rt, (path: string, opts: BuildOptions) => runBuildCommand(rt, path, opts)));
}
