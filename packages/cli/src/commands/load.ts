import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import type { Command } from "commander";
import { LocalError } from "../errors";
import { println } from "../output";
import type { Runtime } from "../runtime";
import { userPath } from "../runtime";
import { act } from "./shared";

/** docker's `load`: streams `-i FILE` (or stdin) as the request body; prints the server's lines. */
export async function runLoad(rt: Runtime, opts: { input?: string; quiet?: boolean }): Promise<void> {
  let body: Readable;
  let source: string;
  if (opts.input) {
    const file = userPath(rt, opts.input);
    try {
      const info = await stat(file);
      if (info.isDirectory()) throw new LocalError(`read ${opts.input}: is a directory`);
    } catch (err) {
      if (err instanceof LocalError) throw err;
      throw new LocalError(
        `open ${opts.input}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (err as Error).message}`,
      );
    }
    body = createReadStream(file);
    source = basename(file);
  } else {
    if (rt.io.stdinIsTTY) throw new LocalError("requested load from stdin, but stdin is empty");
    body = rt.io.stdin;
    source = "stdin";
  }
  const api = await rt.api();
  const lines = await api.load(body, source);
  for (const line of lines) println(rt.io.stdout, line);
}

export function registerLoad(parent: Command, rt: Runtime, name: string): Command {
  return parent
    .command(name)
    .description("Load an image from a tar archive or STDIN")
    .usage("[OPTIONS]")
    .option("-i, --input <string>", "Read from tar archive file, instead of STDIN")
    .option("-q, --quiet", "Suppress the load output")
    .action(act(rt, (opts: { input?: string; quiet?: boolean }) => runLoad(rt, opts)));
}
