import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { posix } from "node:path";
import { Readable } from "node:stream";

import type { BlobStore } from "../../blob-store";
import { pathMatch } from "../../reference";
import { hasWildcard } from "../context/paths";
import { matchSources, walkDirectory } from "../context/sources";
import type { BuildContext, ContextEntry } from "../context/types";
import type { CopyInstruction } from "../dockerfile/ast";
import { type ExpandEnv, expandWord, Lexer } from "../dockerfile/expand";
import { flagBool, flagValue } from "../dockerfile/flags";
import type { DirectoryEntry, LayerEntry } from "../layer/entries";
import { extractArchive, isLocalArchive } from "./archive-source";
import { type IdFiles, type Owner, resolveChown } from "./chown";
import { extractFiles, type FsNode, type ImageFilesystem, splitParts } from "./image-fs";
import { LayerPlan } from "./layer-plan";

/** Where `COPY --from` reads: a stage built earlier or an image, as a filesystem. */
export interface CopyFrom {
  /** For messages: `stage build` or `image alpine:3`. */
  label: string;
  fs: ImageFilesystem;
}

export interface CopyInput {
  instr: CopyInstruction;
  env: ExpandEnv;
  escape: string;
  workingDir: string;
  context: BuildContext;
  from?: CopyFrom;
  store: BlobStore;
  /** Content hashes of context files already read in this build. */
  hashes: Map<string, string>;
  signal?: AbortSignal;
}

export interface CopyEntriesInput {
  /** The filesystem of the image the step runs on. */
  fs: ImageFilesystem;
  /** /etc/passwd and /etc/group of that image, read when --chown names a user or group. */
  idFiles: () => Promise<IdFiles>;
  /** Spool directory for archive members and `--from` files. */
  tmpDir: () => Promise<string>;
  /** The step's time: new directories and heredoc files get it. */
  stepTime: Date;
  /** SOURCE_DATE_EPOCH clamping of file mtimes (identity without it). */
  clamp: (date: Date) => Date;
}

export interface PreparedCopy {
  /** Classic history comment, `COPY file:<hex> in /dst ` (nopCreatedBy puts the shell and `#(nop)` before it). */
  comment: string;
  /** Everything the step depends on besides the parent image: for the cache key. */
  digest: string;
  entries: (input: CopyEntriesInput) => Promise<LayerEntry[]>;
}

/** A file, directory or symlink to copy, relative to the source it belongs to. */
interface SourceFile {
  rel: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  size: number;
  mtime: Date;
  target?: string;
  /** Context path, image node or heredoc bytes: where the content comes from. */
  contextPath?: string;
  node?: FsNode;
  content?: Buffer;
}

interface SourceItem {
  /** Name the source is copied under in a destination directory. */
  name: string;
  /** The source itself (rel "") then, for a directory, everything below it. */
  files: SourceFile[];
  fromContext: boolean;
}

const URL_SOURCE = /^([a-z][a-z0-9+.-]*:\/\/|git@)/i;
const CHMOD = /^[0-7]{1,4}$/;

/**
 * Resolves a COPY/ADD: its sources (context, stage, image or heredoc), its destination and
 * flags; computes what the cache key needs without touching the image; `entries` then lays the
 * files out against the image's filesystem. Errors are plain Errors (or ContextPathError) whose
 * message the caller puts after the Dockerfile line.
 */
export async function prepareCopy(input: CopyInput): Promise<PreparedCopy> {
  const { instr, env, escape } = input;
  const kind = instr.kind;
  for (const name of ["parents", "exclude", "checksum", "keep-git-dir"]) {
    if (instr.flags.some((f) => f.name === name)) throw new Error(`${kind} --${name} is not supported by Berth's builder`);
  }
  const expand = (word: string) => expandWord(word, env, escape);
  const chownRaw = flagValue(instr.flags, "chown");
  const chown = chownRaw === undefined || chownRaw === "" ? undefined : expand(chownRaw);
  const chmodRaw = flagValue(instr.flags, "chmod");
  const chmodText = chmodRaw === undefined || chmodRaw === "" ? undefined : expand(chmodRaw);
  if (chmodText !== undefined && !CHMOD.test(chmodText))
    throw new Error(`invalid --chmod value ${JSON.stringify(chmodText)}: an octal mode like 755 is expected`);
  const chmod = chmodText === undefined ? undefined : parseInt(chmodText, 8);
  const unpack = kind === "ADD" && (instr.flags.some((f) => f.name === "unpack") ? flagBool(instr.flags, "unpack") : true);

  const sources = instr.sources.map(expand);
  for (const source of sources) {
    if (URL_SOURCE.test(source)) {
      throw new Error(
        kind === "ADD"
          ? `ADD ${source}: remote URLs are not supported (Berth builds without fetching from the network); download the file into the build context and ADD or COPY it from there`
          : `COPY ${source}: source can't be a URL for COPY`,
      );
    }
  }

  const items: SourceItem[] = [];
  for (const source of sources) items.push(...(await (input.from ? imageItems(input.from, source) : contextItems(input.context, source))));
  for (const heredoc of instr.heredocs) {
    const text = heredoc.expand
      ? new Lexer(heredoc.content, env, { escape, rawQuotes: true, rawEscapes: true }).process().word
      : heredoc.content;
    const content = Buffer.from(text, "utf8");
    items.push({
      name: heredoc.name,
      fromContext: false,
      files: [{ rel: "", type: "file", mode: 0o644, size: content.length, mtime: new Date(0), content }],
    });
  }
  if (items.length === 0) throw new Error("no source files were specified");

  const rawDest = expand(instr.dest);
  const destIsDir = rawDest.endsWith("/") || rawDest === "." || rawDest.endsWith("/.") || rawDest === "..";
  const dest = splitParts(posix.normalize(posix.isAbsolute(rawDest) ? rawDest : posix.join(input.workingDir || "/", rawDest))).join("/");
  if (items.length > 1 && !destIsDir) {
    throw new Error(`When using ${kind} with more than one source file, the destination must be a directory and end with a /`);
  }

  // The classic builder's source hash: one file, one directory, or several.
  const listing = createHash("sha256");
  for (const item of items) {
    listing.update(`${item.name}\0`);
    for (const file of item.files)
      listing.update(`${file.rel}\0${file.type}\0${file.mode.toString(8)}\0${file.size}\0${await identity(input, file)}\n`);
  }
  const hex = listing.digest("hex");
  const only = items.length === 1 ? items[0]!.files[0]! : undefined;
  const srcHash = `${only ? (only.type === "directory" ? "dir" : "file") : "multi"}:${hex}`;
  // moby writes no space between the flag and the hash (`--chown=1:2dir:…`); buildah copies it.
  const flagsText = chown !== undefined ? `--chown=${chown}` : "";
  // The destination as written (after expansion), as moby's performCopy prints it: `in . `, `in /srv/ `.
  const comment = `${kind} ${flagsText}${srcHash} in ${rawDest} `;
  const digest = JSON.stringify({ hex, dest, destIsDir, chown, chmod, unpack });

  return {
    comment,
    digest,
    entries: (run) => layEntries(input, run, { items, dest, destIsDir, chown, chmod, unpack }),
  };
}

async function contextItems(context: BuildContext, source: string): Promise<SourceItem[]> {
  const matched = await matchSources(context, source);
  const items: SourceItem[] = [];
  for (const { name, entry } of matched) {
    const files: SourceFile[] = [fromContextEntry(entry, "")];
    if (entry.type === "directory") {
      const prefix = entry.path === "" ? "" : `${entry.path}/`;
      for await (const child of walkDirectory(context, entry.path)) files.push(fromContextEntry(child, child.path.slice(prefix.length)));
    }
    items.push({ name, files, fromContext: true });
  }
  return items;
}

function fromContextEntry(entry: ContextEntry, rel: string): SourceFile {
  const file: SourceFile = { rel, type: entry.type, mode: entry.mode, size: entry.size, mtime: entry.mtime, contextPath: entry.path };
  if (entry.target !== undefined) file.target = entry.target;
  return file;
}

function imageItems(from: CopyFrom, source: string): SourceItem[] {
  const clean = splitParts(posix.normalize(`/${source}`)).join("/");
  const found: { name: string; node: FsNode }[] = [];
  if (hasWildcard(source)) {
    const root = from.fs.lookup("");
    for (const { path, node } of from.fs.walk(root!, "")) {
      let matches: boolean;
      try {
        matches = pathMatch(clean, path);
      } catch {
        throw new Error(`${source}: syntax error in pattern`);
      }
      if (!matches) continue;
      const resolved = node.type === "symlink" ? from.fs.resolve(path) : { path, node };
      if (resolved.node) found.push({ name: posix.basename(path), node: resolved.node });
    }
    return found.map((f) => imageItem(from, f.name, f.node));
  }
  const resolved = from.fs.resolve(clean);
  if (!resolved.node) throw new Error(`${source}: not found in ${from.label}`);
  return [imageItem(from, clean === "" ? "" : posix.basename(clean), resolved.node)];
}

function imageItem(from: CopyFrom, name: string, node: FsNode): SourceItem {
  const files: SourceFile[] = [fromNode(node, "")];
  if (node.type === "directory") for (const child of from.fs.walk(node, "")) files.push(fromNode(child.node, child.path));
  return { name, files, fromContext: false };
}

function fromNode(node: FsNode, rel: string): SourceFile {
  const file: SourceFile = { rel, type: node.type, mode: node.mode, size: node.size, mtime: node.mtime, node };
  if (node.target !== undefined) file.target = node.target;
  return file;
}

/** What identifies a source file's content: a hash of context bytes, the layer member of an image file. */
async function identity(input: CopyInput, file: SourceFile): Promise<string> {
  if (file.type === "symlink") return file.target ?? "";
  if (file.type === "directory") return "";
  if (file.content) return createHash("sha256").update(file.content).digest("hex");
  if (file.node) return `${file.node.layer?.diffId.hex ?? ""}/${file.node.member ?? ""}`;
  const path = file.contextPath!;
  const known = input.hashes.get(path);
  if (known) return known;
  const hash = createHash("sha256");
  for await (const chunk of await input.context.open(path)) {
    input.signal?.throwIfAborted();
    hash.update(chunk as Buffer);
  }
  const hex = hash.digest("hex");
  input.hashes.set(path, hex);
  return hex;
}

interface Layout {
  items: SourceItem[];
  dest: string;
  destIsDir: boolean;
  chown: string | undefined;
  chmod: number | undefined;
  unpack: boolean;
}

async function layEntries(input: CopyInput, run: CopyEntriesInput, layout: Layout): Promise<LayerEntry[]> {
  const { fs } = run;
  const owner: Owner = layout.chown === undefined ? { uid: 0, gid: 0 } : resolveChown(layout.chown, await run.idFiles());
  const newDir = (path: string): DirectoryEntry => ({ type: "directory", path, mode: 0o755, ...owner, mtime: run.stepTime });
  const plan = new LayerPlan(fs, newDir);
  // COPY --from keeps the owners of the source stage's files (as BuildKit does); context files belong to root.
  const ownerOf = (file: SourceFile): Owner =>
    layout.chown === undefined && file.node ? { uid: file.node.uid, gid: file.node.gid } : owner;
  const mode = (file: SourceFile) => (layout.chmod !== undefined && file.type !== "symlink" ? layout.chmod : file.mode);

  // `--from` files are read out of their layers first, in one pass per layer.
  const nodes = layout.items.flatMap((item) => item.files.filter((f) => f.type === "file" && f.node && !f.node.source).map((f) => f.node!));
  const spooled =
    nodes.length > 0 ? await extractFiles(input.store, nodes, await run.tmpDir(), input.signal) : new Map<FsNode, string | Buffer>();
  const opener = (file: SourceFile) => (): Readable | Promise<Readable> => {
    if (file.content) return Readable.from([file.content]);
    if (file.node?.source) return file.node.source();
    if (file.node) {
      const where = spooled.get(file.node)!;
      return typeof where === "string" ? createReadStream(where) : Readable.from([where]);
    }
    return input.context.open(file.contextPath!);
  };

  // Where things go: into a directory (dest ends with "/", several sources, a directory source,
  // an existing directory, an archive), or to a file path.
  const archives = new Set<SourceItem>();
  if (input.instr.kind === "ADD" && layout.unpack) {
    for (const item of layout.items) {
      const root = item.files[0]!;
      if (
        item.fromContext &&
        root.type === "file" &&
        (await isLocalArchive(() => input.context.open(root.contextPath!), root.contextPath!))
      )
        archives.add(item);
    }
  }
  const resolvedDest = fs.resolve(layout.dest);
  const single = layout.items.length === 1 ? layout.items[0]! : undefined;
  const intoDir =
    layout.destIsDir || !single || single.files[0]!.type === "directory" || archives.size > 0 || resolvedDest.node?.type === "directory";
  let dirPath = "";
  let filePath = "";
  if (intoDir) {
    dirPath = resolvedDest.path;
    if (resolvedDest.node && resolvedDest.node.type !== "directory")
      throw new Error(`cannot copy to /${layout.dest}: it is not a directory in the image`);
  } else {
    const parent = fs.resolve(posix.dirname(`/${layout.dest}`)).path;
    filePath = parent === "" ? posix.basename(`/${layout.dest}`) : `${parent}/${posix.basename(`/${layout.dest}`)}`;
  }
  const join = (dir: string, rel: string) => (dir === "" ? rel : rel === "" ? dir : `${dir}/${rel}`);

  for (const item of layout.items) {
    const root = item.files[0]!;
    if (archives.has(item)) {
      if (dirPath !== "") plan.ensureDir(dirPath, newDir(dirPath));
      await extractArchive(async () => input.context.open(root.contextPath!), root.contextPath!, {
        dest: dirPath,
        tmpDir: await run.tmpDir(),
        clamp: run.clamp,
        add: (entry) => plan.add(entry),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      continue;
    }
    // A directory source is copied by its contents; a file lands in the directory under its name, or at the file path.
    const base = root.type === "directory" ? dirPath : intoDir ? join(dirPath, item.name) : filePath;
    for (const file of item.files) {
      const path = join(base, file.rel);
      const common = { path, mode: mode(file), ...ownerOf(file), mtime: run.clamp(file.mtime) };
      if (file.type === "directory") {
        if (path === "") continue;
        // A directory source is copied by its contents: a destination it creates is a new directory
        // (0755, root or --chown's owner), as buildah and docker make it, not a copy of the source's.
        if (file.rel === "") plan.ensureDir(path, newDir(path));
        else plan.add({ ...common, type: "directory" });
      } else if (file.type === "symlink") {
        if (path === "") throw new Error(`cannot copy a symlink over the image root`);
        plan.add({ ...common, mode: 0o777, type: "symlink", target: file.target ?? "" });
      } else {
        if (path === "") throw new Error(`cannot copy a file over the image root`);
        plan.add({ ...common, type: "file", size: file.size, open: opener(file), mtime: file.content ? run.stepTime : common.mtime });
      }
    }
  }
  return plan.list();
}
