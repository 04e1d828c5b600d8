import { createHash } from "node:crypto";
import { once } from "node:events";
import { readFile, utimes, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { text } from "node:stream/consumers";

import { describe, expect, it } from "vitest";

import { Digest } from "../src/digest";
import { BlobNotFoundError, DigestMismatchError, EngineError, SizeMismatchError } from "../src/errors";
import { storeFiles, tempStore } from "./helpers";

async function write(store: Awaited<ReturnType<typeof tempStore>>, data: string, expected?: { digest?: Digest; size?: number }) {
  const ingest = await store.ingest();
  ingest.writable.write(data.slice(0, 3));
  ingest.writable.end(data.slice(3));
  return ingest.commit(expected);
}

describe("FsBlobStore", () => {
  it("stores a verified blob under blobs/sha256/<hex> and reads it back", async () => {
    const store = await tempStore();
    const digest = Digest.of("hello blob");
    const result = await write(store, "hello blob", { digest, size: 10 });
    expect(result).toEqual({ digest, size: 10, created: true });
    expect(await readFile(join(store.root, "blobs/sha256", digest.hex), "utf8")).toBe("hello blob");
    expect(await store.stat(digest)).toEqual({ size: 10 });
    expect((await store.read(digest, 100)).toString()).toBe("hello blob");
    expect(await storeFiles(store)).toHaveLength(1); // ingest dir empty
    const listed = [];
    for await (const blob of store.list()) listed.push(blob);
    expect(listed).toEqual([{ digest, size: 10 }]);
  });

  it("rejects a digest or size mismatch and leaves nothing behind", async () => {
    const store = await tempStore();
    await expect(write(store, "abc", { digest: Digest.of("abd") })).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(write(store, "abc", { size: 4 })).rejects.toBeInstanceOf(SizeMismatchError);
    expect(await storeFiles(store)).toEqual([]);
    expect(await store.has(Digest.of("abc"))).toBe(false);
  });

  it("lets concurrent writers of the same blob succeed, exactly one of them creating it", async () => {
    const store = await tempStore();
    const data = "x".repeat(300_000);
    const results = await Promise.all(Array.from({ length: 8 }, () => write(store, data, { digest: Digest.of(data) })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await store.read(Digest.of(data), 1e6)).toString()).toBe(data);
    expect(await storeFiles(store)).toHaveLength(1);
    expect((await write(store, data)).created).toBe(false);
  });

  it("serves byte ranges (end exclusive) and rejects ranges outside the blob", async () => {
    const store = await tempStore();
    const digest = await store.put(Buffer.from("0123456789"));
    expect(await text(await store.open(digest, { start: 2, end: 5 }))).toBe("234");
    expect(await text(await store.open(digest, { start: 7 }))).toBe("789");
    expect(await text(await store.open(digest, { start: 10 }))).toBe("");
    expect(await text(await store.open(digest))).toBe("0123456789");
    await expect(store.open(digest, { start: 11 })).rejects.toThrow(/outside blob/);
  });

  it("reports absent blobs and oversize reads with engine errors", async () => {
    const store = await tempStore();
    const missing = Digest.of("nope");
    await expect(store.open(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
    const digest = await store.put(Buffer.from("twelve bytes"));
    const err = await store.read(digest, 5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe("TOO_LARGE");
    await store.delete(digest);
    await store.delete(digest); // absent: ignored
    expect(await store.has(digest)).toBe(false);
  });

  it("commits a blob written past several background flushes whole, and an abort among them leaves nothing", async () => {
    const store = await tempStore();
    const chunk = Buffer.alloc(1024 * 1024);
    const hash = createHash("sha256");
    const ingest = await store.ingest();
    for (let i = 0; i < 40; i++) {
      chunk.fill(i);
      hash.update(chunk);
      if (!ingest.writable.write(Buffer.from(chunk))) await once(ingest.writable, "drain");
    }
    const { digest, size } = await ingest.commit({ digest: Digest.fromHex(hash.digest("hex")), size: 40 * 1024 * 1024 });
    expect(size).toBe(40 * 1024 * 1024);
    expect((await storeFiles(store)).map((f) => f.slice(-64))).toEqual([digest.hex]);

    const abandoned = await store.ingest();
    for (let i = 0; i < 40; i++) {
      if (!abandoned.writable.write(Buffer.alloc(1024 * 1024, i))) await once(abandoned.writable, "drain");
    }
    await abandoned.abort();
    expect((await storeFiles(store)).map((f) => f.slice(-64))).toEqual([digest.hex]);
  });

  it("aborts an ingest, checks writability and cleans stale ingest files", async () => {
    const store = await tempStore();
    const ingest = await store.ingest();
    ingest.writable.write("partial");
    await ingest.abort();
    await ingest.abort();
    expect(await storeFiles(store)).toEqual([]);

    await store.check();
    await mkdir(store.ingestDir, { recursive: true });
    const stale = join(store.ingestDir, "stale");
    await writeFile(stale, "left by a crash");
    await utimes(stale, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    await writeFile(join(store.ingestDir, "fresh"), "still being written");
    expect(await store.cleanIngests(60_000)).toBe(1);
    expect((await storeFiles(store)).map((f) => f.split("/").pop())).toEqual(["fresh"]);
  });
});
