import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FsBlobStore } from "../src/fs-blob-store";
import { LayerMeter } from "../src/layer-meter";

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Feeds `data` in network-sized pieces, as a pull or an archive read does. */
async function measure(data: Buffer, piece = 64 * 1024) {
  const meter = new LayerMeter();
  for (let at = 0; at < data.length; at += piece) await meter.write(data.subarray(at, at + piece));
  return meter.finish();
}

describe("LayerMeter", () => {
  it("learns a gzip layer's diff_id and size, whatever the sizes of the pieces it is given", async () => {
    const tar = Buffer.concat([randomBytes(3 * 1024 * 1024), Buffer.alloc(2 * 1024 * 1024, "a")]);
    const layer = gzipSync(tar);
    for (const piece of [1, 4096, 1024 * 1024, layer.length]) {
      const measured = await measure(piece === 1 ? layer.subarray(0, 20_000) : layer, piece);
      if (piece === 1) {
        // A layer cut short is an error, not a wrong digest.
        expect(measured).toEqual({ compression: "gzip", error: "unexpected end of file" });
        continue;
      }
      expect(measured).toMatchObject({ compression: "gzip", size: tar.length });
      expect(String((measured as { diffId: unknown }).diffId)).toBe(sha256(tar));
    }
  });

  it("measures many layers at once without mixing them up", async () => {
    const tars = Array.from({ length: 12 }, (_, i) => randomBytes(200_000 + i * 7919));
    const results = await Promise.all(tars.map((tar) => measure(gzipSync(tar), 8192)));
    results.forEach((measured, i) => {
      expect(String((measured as { diffId: unknown }).diffId)).toBe(sha256(tars[i]!));
      expect((measured as { size: number }).size).toBe(tars[i]!.length);
    });
  });

  it("reports corrupt gzip with zlib's message, and keeps working for the next layer", async () => {
    const layer = gzipSync(randomBytes(100_000));
    const corrupt = Buffer.from(layer);
    corrupt.fill(0x55, 40, 400);
    const measured = await measure(corrupt);
    expect(measured.compression).toBe("gzip");
    expect("error" in measured ? measured.error : "no error").toMatch(/invalid|incorrect|check/);
    const tar = randomBytes(50_000);
    expect(String(((await measure(gzipSync(tar))) as { diffId: unknown }).diffId)).toBe(sha256(tar));
  });

  it("tells uncompressed and zstd layers apart without decompressing them", async () => {
    expect(await measure(Buffer.from("ustar-ish plain tar bytes"))).toEqual({ compression: "none" });
    expect(await measure(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]))).toEqual({ compression: "zstd" });
    expect(await measure(Buffer.from([0x1f]))).toEqual({ compression: "none" });
  });

  it("can be abandoned half-way; the next layer is measured as usual", async () => {
    const meter = new LayerMeter();
    await meter.write(gzipSync(randomBytes(500_000)).subarray(0, 100_000));
    meter.destroy();
    const tar = randomBytes(10_000);
    expect(String(((await measure(gzipSync(tar))) as { diffId: unknown }).diffId)).toBe(sha256(tar));
  });
});

describe("a blob store ingest that measures the layer it stores", () => {
  async function ingestMeasured(data: Buffer) {
    const dir = await mkdtemp(path.join(tmpdir(), "berth-measure-"));
    try {
      const ingest = await new FsBlobStore(dir).ingest({ measureLayer: true });
      for (let at = 0; at < data.length; at += 64 * 1024) ingest.writable.write(data.subarray(at, at + 64 * 1024));
      return await ingest.commit();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("returns the blob's digest and the layer's diff_id from one pass", async () => {
    const tar = randomBytes(2 * 1024 * 1024 + 17);
    const layer = gzipSync(tar);
    const result = await ingestMeasured(layer);
    expect(String(result.digest)).toBe(sha256(layer));
    expect(result.size).toBe(layer.length);
    expect(result.layer).toMatchObject({ compression: "gzip", size: tar.length });
    expect(String((result.layer as { diffId: unknown }).diffId)).toBe(sha256(tar));
  });

  it("stores a blob that is not valid gzip as it is, saying why it is no layer", async () => {
    const corrupt = gzipSync(randomBytes(300_000));
    corrupt.fill(0, 30, 3000);
    const result = await ingestMeasured(corrupt);
    expect(String(result.digest)).toBe(sha256(corrupt));
    expect(result.layer?.compression).toBe("gzip");
    expect(result.layer && "error" in result.layer).toBe(true);
    const plain = Buffer.from("a plain tar, uncompressed");
    expect((await ingestMeasured(plain)).layer).toEqual({ compression: "none" });
  });
});
