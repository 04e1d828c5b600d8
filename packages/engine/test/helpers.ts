import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";

import { extract, pack } from "tar-stream";
import { afterAll, afterEach } from "vitest";

import { FsBlobStore } from "../src/fs-blob-store";

const cleanups: (() => Promise<void>)[] = [];
const fileCleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(async () => {
  for (const cleanup of fileCleanups.splice(0)) await cleanup();
});

/** A blob store in a fresh temporary directory, removed after the test. */
export async function tempStore(): Promise<FsBlobStore> {
  return new FsBlobStore(await tempDir("berth-blobs-"));
}

/** A temporary directory removed after the test, or after the file with scope "file" (for beforeAll). */
export async function tempDir(prefix = "berth-test-", scope: "test" | "file" = "test"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  (scope === "test" ? cleanups : fileCleanups).push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file in the store's blob and ingest directories. */
export async function storeFiles(store: FsBlobStore): Promise<string[]> {
  const list = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).map((n) => join(dir, n));
  return [...(await list(store.blobDir)), ...(await list(store.ingestDir))];
}

export interface TarMember {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  linkname?: string;
  data?: Buffer;
}

/** A tar built member by member, exactly as given (no sanitising: tests build bad ones). */
export async function packTar(members: TarMember[], opts: { endMarker?: boolean } = {}): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of p) chunks.push(chunk as Buffer);
  })();
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      const header = { name: m.name, type: m.type ?? "file", linkname: m.linkname, mode: 0o644, mtime: new Date(0) } as const;
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (header.type === "file") p.entry({ ...header, size: m.data?.length ?? 0 }, m.data ?? Buffer.alloc(0), cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await collected;
  const tar = Buffer.concat(chunks);
  // tar-stream always ends with two zero blocks; dropping them simulates a cut-off upload.
  return opts.endMarker === false ? tar.subarray(0, tar.length - 1024) : tar;
}

/** The members of a tar file, in order, with their bytes. */
export async function unpackTar(data: Buffer): Promise<TarMember[]> {
  const x = extract();
  const members: TarMember[] = [];
  const done = (async () => {
    for await (const entry of x) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      members.push({ name: h.name, type: h.type as TarMember["type"], linkname: h.linkname ?? undefined, data: Buffer.concat(chunks) });
    }
  })();
  x.end(data);
  await done;
  return members;
}

/** Packs a directory with the system tar (what a user uploading a layout would do). */
export function tarDirectory(dir: string, file: string, gzip = false): string {
  execFileSync("tar", [gzip ? "-czf" : "-cf", file, "-C", dir, "."]);
  return file;
}

export function streamOf(data: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

export const POLICY_JSON = '{"default":[{"type":"insecureAcceptAnything"}]}';
