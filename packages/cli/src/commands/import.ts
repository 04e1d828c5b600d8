import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import type { Command } from "commander";
import { LocalError } from "../errors";
import { println } from "../output";
import type { Runtime } from "../runtime";
import { userPath } from "../runtime";
import { act, collect } from "./shared";

export interface ImportOptions {
  change: string[];
  message?: string;
  platform?: string;
}

/**
 * docker's `import FILE|- [REPOSITORY[:TAG]]`: streams the rootfs tarball (plain, gzip, xz or zstd)
 * to the server, which makes a one-layer image of it; prints the new image ID.
 */
export async function runImport(rt: Runtime, file: string, reference: string | undefined, opts: ImportOptions): Promise<void> {
  if (/^https?:\/\//i.test(file)) {
    throw new LocalError(`importing from a URL is not supported: download ${file} and import the file`);
  }
  const { body, source } = file === "-" ? { body: rt.io.stdin, source: "-" } : await openFile(rt, file);
  const query = new URLSearchParams({ source });
  if (reference) query.set("ref", reference);
  for (const change of opts.change) query.append("change", change);
  if (opts.message) query.set("message", opts.message);
  if (opts.platform) query.set("platform", opts.platform);
  const api = await rt.api();
  const result = await api.importImage(body, query);
  println(rt.io.stdout, result.id);
}

/** A local file as a request body; its name goes to the audit log. */
export async function openFile(rt: Runtime, file: string): Promise<{ body: Readable; source: string }> {
  const path = userPath(rt, file);
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new LocalError(`read ${file}: is a directory`);
  } catch (err) {
    if (err instanceof LocalError) throw err;
    throw new LocalError(
      `open ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (err as Error).message}`,
    );
  }
  return { body: createReadStream(path), source: basename(path) };
}

export function registerImport(parent: Command, rt: Runtime, name: string): Command {
  return parent
    .command(name)
    .description("Import the contents from a tarball to create a filesystem image")
    .usage("[OPTIONS] file|- [REPOSITORY[:TAG]]")
    .argument("<file|->")
    .argument("[REPOSITORY[:TAG]]")
    .option("-c, --change <list>", "Apply Dockerfile instruction to the created image", collect, [])
    .option("-m, --message <string>", "Set commit message for imported image")
    .option("--platform <string>", "Set platform if server is multi-platform capable")
    .action(act(rt, (file: string, reference: string | undefined, opts: ImportOptions) => runImport(rt, file, reference, opts)));
}
