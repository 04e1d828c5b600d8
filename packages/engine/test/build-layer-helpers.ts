import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";

import { extract, pack } from "tar-stream";

import type { BlobStore } from "../src/blob-store";
import type { Digest } from "../src/digest";
import type { LayerEntry } from "../src/build/layer/entries";

export interface ReadMember {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
  pax: Record<string, string> | null;
  data: Buffer;
}

/** A stored blob, whole (tests only). */
export async function blobBytes(store: BlobStore, digest: Digest): Promise<Buffer> {
  return store.read(digest, 256 * 1024 * 1024);
}

/** The members of a tar (gunzipped first when it is gzip), headers as tar-stream reads them. */
export async function readTarMembers(data: Buffer): Promise<ReadMember[]> {
  const tar = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
  const x = extract();
  const members: ReadMember[] = [];
  const done = (async () => {
    for await (const entry of x) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      members.push({
        name: h.name,
        type: h.type,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        mtime: h.mtime.getTime(),
        linkname: h.linkname ?? null,
        pax: (h.pax as Record<string, string> | null) ?? null,
        data: Buffer.concat(chunks),
      });
    }
  })();
  x.end(tar);
  await done;
  return members;
}

export const T0 = new Date("2024-01-02T03:04:05Z");

export function file(path: string, content: string | Buffer, extra: Partial<LayerEntry> = {}): LayerEntry {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return {
    type: "file",
    path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: T0,
    size: data.length,
    open: () => Readable.from([data]),
    ...extra,
  } as LayerEntry;
}

export function dir(path: string, extra: Partial<LayerEntry> = {}): LayerEntry {
  return { type: "directory", path, mode: 0o755, uid: 0, gid: 0, mtime: T0, ...extra } as LayerEntry;
}

export interface RawMember {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "character-device" | "fifo";
  data?: string | Buffer;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  mtime?: Date;
}

/** A tar as a user might upload it, members exactly as given. */
export async function rawTar(members: RawMember[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of p) chunks.push(chunk as Buffer);
  })();
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      const type = m.type ?? "file";
      const header = {
        name: m.name,
        type,
        linkname: m.linkname,
        mode: m.mode ?? (type === "directory" ? 0o755 : 0o644),
        uid: m.uid ?? 0,
        gid: m.gid ?? 0,
        mtime: m.mtime ?? T0,
        devmajor: m.devmajor,
        devminor: m.devminor,
        pax: m.pax,
      };
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === "file") p.entry(header, m.data ?? "", cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** `data` compressed with the system's gzip, xz or zstd (what a user would upload). */
export function compressWith(tool: "gzip" | "xz" | "zstd" | "bzip2", data: Buffer): Buffer {
  return execFileSync(tool, ["-c", "-q"], { input: data, maxBuffer: 1 << 30 });
}

/** Reads a stream to its end. */
export async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
