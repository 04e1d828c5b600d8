import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { extract as tarExtract } from "tar-stream";

import type { LayerEntry } from "../layer/entries";
import { decompressed } from "./decompressed";
import type { TarHeader } from "./image-fs";

/** Bytes needed to see a tar header's "ustar" magic (offset 257). */
/** What one ADD may unpack: a compressed archive in the context must not fill the disk (a "zip bomb"). */
const MAX_EXTRACTED_BYTES = 16 * 1024 * 1024 * 1024;
const MAX_MEMBERS = 1_000_000;
const MAGIC_BYTES = 262;

/** Reads up to `n` bytes, then stops reading. Corrupt compressed data reads as what came before it. */
async function head(bytes: AsyncIterable<Buffer>, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of bytes) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= n) break;
    }
  } catch {
    // Not an archive we can extract: the file is copied as it is.
  }
  return Buffer.concat(chunks).subarray(0, n);
}

function isTar(bytes: Buffer): boolean {
  return bytes.length >= MAGIC_BYTES && bytes.subarray(257, 262).toString("latin1") === "ustar";
}

/**
 * Whether ADD extracts a local file: a tar archive, plain or compressed with gzip, xz or zstd
 * (bzip2 is refused with a clear error). Told by content, not by name, like docker.
 */
export async function isLocalArchive(open: () => Promise<Readable>, what: string): Promise<boolean> {
  const source = await open();
  try {
    const { bytes } = await decompressed(source, what);
    return isTar(await head(bytes, MAGIC_BYTES));
  } finally {
    source.destroy();
  }
}

export interface ExtractOptions {
  /** Where the archive lands in the image (relative, "" for the root). */
  dest: string;
  /** Spool directory for the members' bytes. */
  tmpDir: string;
  clamp: (date: Date) => Date;
  add: (entry: LayerEntry) => void;
  signal?: AbortSignal;
}

/**
 * ADD's auto-extraction: each member becomes an entry below `dest`, with the archive's modes,
 * owners and mtimes (clamped), as docker's untar keeps them. Member names with ".." are refused.
 */
export async function extractArchive(open: () => Promise<Readable>, what: string, options: ExtractOptions): Promise<void> {
  // A directory of its own: two archives in one step must not overwrite each other's members.
  const spool = await mkdtemp(join(options.tmpDir, "add-"));
  const extract = tarExtract();
  const feeding = (async () => {
    const { bytes } = await decompressed(await open(), what);
    await pipeline(Readable.from(bytes), extract);
  })();
  feeding.catch((err: unknown) => extract.destroy(err as Error));
  let n = 0;
  let total = 0;
  try {
    for await (const member of extract as unknown as AsyncIterable<Readable & { header: TarHeader }>) {
      options.signal?.throwIfAborted();
      n++;
      const h = member.header;
      total += h.size;
      if (n > MAX_MEMBERS || total > MAX_EXTRACTED_BYTES) {
        throw new ArchiveMemberError(`${what}: the archive unpacks to more than ${MAX_MEMBERS} members or ${MAX_EXTRACTED_BYTES} bytes`);
      }
      const rel = memberPath(h.name, what);
      const path = rel === "" ? options.dest : options.dest === "" ? rel : `${options.dest}/${rel}`;
      const base = {
        path,
        mode: (h.mode ?? 0o644) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        mtime: options.clamp(h.mtime ?? new Date(0)),
      };
      if (h.type === "file" || h.type === "contiguous-file") {
        const file = join(spool, String(n));
        await pipeline(member, createWriteStream(file, { mode: 0o600 }));
        if (path !== "") options.add({ ...base, type: "file", size: h.size, open: () => createReadStream(file) });
        continue;
      }
      member.resume();
      if (path === "") continue;
      // The archive's own root ("./") says nothing about the destination: docker's untar leaves an
      // existing directory as it is (the step made it, 0755, when it was missing).
      if (rel === "" && h.type === "directory") continue;
      if (h.type === "directory") options.add({ ...base, type: "directory" });
      else if (h.type === "symlink") options.add({ ...base, type: "symlink", target: h.linkname ?? "" });
      else if (h.type === "link") {
        const target = memberPath(h.linkname ?? "", what);
        options.add({ ...base, type: "link", target: options.dest === "" ? target : `${options.dest}/${target}` });
      }
      // Devices and fifos are not extracted: an image layer written without privileges cannot hold them faithfully.
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    if (err instanceof ArchiveMemberError) throw err;
    throw new Error(`${what} could not be extracted: ${(err as Error).message}`);
  }
}

class ArchiveMemberError extends Error {}

function memberPath(name: string, what: string): string {
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new ArchiveMemberError(`${what}: archive member ${JSON.stringify(name)} would land outside the destination`);
    parts.push(part);
  }
  return parts.join("/");
}
