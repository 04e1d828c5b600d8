import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { streamError } from "../api";
import { LocalError } from "../errors";
import type { Runtime } from "../runtime";
import { userPath } from "../runtime";
import { act } from "./shared";

/**
 * docker's `save`: streams the server's archive to `-o FILE` (via `FILE.partial`, renamed
 * when complete, so a failed save leaves nothing) or to stdout when it is not a terminal.
 */
export async function runSave(rt: Runtime, refs: string[], opts: { output?: string }): Promise<void> {
  if (!opts.output && rt.io.stdoutIsTTY) {
    throw new LocalError("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  const api = await rt.api();
  if (!opts.output) {
    const archive = await api.save(refs);
    try {
      await pipeline(archive, rt.io.stdout, { end: false });
    } catch (err) {
      throw streamError(err, api.url);
    }
    return;
  }
  const file = userPath(rt, opts.output);
  const partial = `${file}.partial`;
  const archive = await api.save(refs);
  try {
    await pipeline(archive, createWriteStream(partial, { mode: 0o644 }));
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR") {
      throw new LocalError(`failed to save image: invalid output path: ${(err as Error).message}`);
    }
    throw streamError(err, api.url);
  }
}

export function registerSave(parent: Command, rt: Runtime, name: string): Command {
  return parent
    .command(name)
    .description("Save one or more images to a tar archive (streamed to STDOUT by default)")
    .usage("[OPTIONS] IMAGE [IMAGE...]")
    .argument("<IMAGE...>")
    .option("-o, --output <string>", "Write to a file, instead of STDOUT")
    .action(act(rt, (refs: string[], opts: { output?: string }) => runSave(rt, refs, opts)));
}
