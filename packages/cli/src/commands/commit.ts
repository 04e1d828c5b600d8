import type { Readable } from "node:stream";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { LocalError } from "../errors";
import { println } from "../output";
import type { Runtime } from "../runtime";
import { userPath } from "../runtime";
import { openFile } from "./import";
import { act, collect } from "./shared";

export interface CommitOptions {
  author?: string;
  change: string[];
  message?: string;
  /** A tarball of files to add or replace (`-` for stdin). */
  file?: string;
  delete: string[];
  /** A file listing paths to delete, one per line (`-` for stdin). */
  deleteFrom?: string;
}

/**
 * docker's `commit`, without a container: IMAGE + a changes tarball (`-f`, whiteouts honoured) and
 * deletes (`-d`, `--delete-from`) → a new image with one more layer; prints the new image ID.
 */
export async function runCommit(rt: Runtime, image: string, reference: string | undefined, opts: CommitOptions): Promise<void> {
  if (opts.file === "-" && opts.deleteFrom === "-") throw new LocalError("only one of --file and --delete-from can read from stdin");
  const deletes = [...opts.delete, ...(opts.deleteFrom ? await readList(rt, opts.deleteFrom) : [])];
  let body: Readable | null = null;
  if (opts.file === "-") {
    if (rt.io.stdinIsTTY) throw new LocalError("requested a changes tarball from stdin, but stdin is a terminal");
    body = rt.io.stdin;
  } else if (opts.file) {
    body = (await openFile(rt, opts.file)).body;
  }
  const query = new URLSearchParams({ base: image });
  if (reference) query.set("ref", reference);
  for (const change of opts.change) query.append("change", change);
  if (opts.message) query.set("message", opts.message);
  if (opts.author) query.set("author", opts.author);
  for (const path of deletes) query.append("delete", path);
  const api = await rt.api();
  const result = await api.commitImage(body, query);
  println(rt.io.stdout, result.id);
}

/** Paths to delete, one per line; blank lines and `#` comments are skipped. */
async function readList(rt: Runtime, file: string): Promise<string[]> {
  let text: string;
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of rt.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    text = Buffer.concat(chunks).toString("utf8");
  } else {
    try {
      text = await readFile(userPath(rt, file), "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LocalError(
        `open ${file}: ${code === "ENOENT" ? "no such file or directory" : code === "EISDIR" ? "is a directory" : (err as Error).message}`,
      );
    }
  }
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

export function registerCommit(parent: Command, rt: Runtime, name: string): Command {
  return parent
    .command(name)
    .description("Create a new image from an image and a tarball of changes (without a container)")
    .usage("[OPTIONS] IMAGE [REPOSITORY[:TAG]]")
    .argument("<IMAGE>")
    .argument("[REPOSITORY[:TAG]]")
    .option("-a, --author <string>", 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option("-c, --change <list>", "Apply Dockerfile instruction to the created image", collect, [])
    .option("-m, --message <string>", "Commit message")
    .option("-f, --file <file|->", "Tarball of files to add or replace, whiteouts (.wh.name) delete (plain, gzip, xz or zstd; - for STDIN)")
    .option("-d, --delete <path>", "Delete a path in the new layer (repeatable)", collect, [])
    .option("--delete-from <file|->", "Delete the paths listed in a file, one per line (- for STDIN)")
    .action(act(rt, (image: string, reference: string | undefined, opts: CommitOptions) => runCommit(rt, image, reference, opts)));
}
