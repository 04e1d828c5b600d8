import { createHash } from "node:crypto";
import { once } from "node:events";
import type { TransformOptions } from "node:stream";
import { createGunzip, type Gunzip, type ZlibOptions } from "node:zlib";

import { Digest } from "./digest";

/**
 * Learns a layer's diff_id and uncompressed size while its bytes stream past, without a
 * second pass: the compression is sniffed from the first bytes (as the archive reader does,
 * not trusted from the media type) and gzip is decompressed alongside and hashed.
 * Used by the archive reader (any member may turn out to be a layer) and by pulls.
 */
export type LayerMeasure =
  | { compression: "gzip"; diffId: Digest; size: number }
  | { compression: "gzip"; error: string }
  | { compression: "none" }
  | { compression: "zstd" };

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GUNZIP_CHUNK_BYTES = 512 * 1024;
const METER_BUFFER_BYTES = 4 * 1024 * 1024;

export class LayerMeter {
  private head = Buffer.alloc(0);
  private sniffed: "gzip" | "zstd" | "none" | undefined;
  private z: Gunzip | undefined;
  private readonly hash = createHash("sha256");
  private size = 0;
  private error: string | undefined;
  private ended: Promise<void> | undefined;

  async write(chunk: Buffer): Promise<void> {
    if (this.sniffed === undefined) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 4) return;
      this.sniff(this.head);
      chunk = this.head;
      this.head = Buffer.alloc(0);
    }
    await this.feed(chunk);
  }

  async finish(): Promise<LayerMeasure> {
    if (this.sniffed === undefined) {
      // Fewer than 4 bytes in all: too short for gzip or zstd.
      this.sniff(this.head);
      await this.feed(this.head);
    }
    if (this.sniffed !== "gzip") return { compression: this.sniffed ?? "none" };
    const z = this.z!;
    if (this.error === undefined && !z.destroyed) z.end();
    await this.ended;
    if (this.error !== undefined) return { compression: "gzip", error: this.error };
    return {
      compression: "gzip",
      diffId: Digest.fromHex(this.hash.digest("hex")),
      size: this.size,
    };
  }

  destroy(): void {
    this.z?.destroy();
  }

  private sniff(head: Buffer): void {
    if (head[0] === 0x1f && head[1] === 0x8b) {
      this.sniffed = "gzip";
      // zlib's default 16 KiB output chunk costs a thread-pool round trip per 16 KiB, and its
      // 16 KiB input buffer would make every network chunk wait for the one before it.
      // (zlib passes stream options on to its Transform; its typings do not say so.)
      const options: ZlibOptions & TransformOptions = { chunkSize: GUNZIP_CHUNK_BYTES, writableHighWaterMark: METER_BUFFER_BYTES };
      const z = createGunzip(options);
      z.on("data", (out: Buffer) => {
        this.hash.update(out);
        this.size += out.byteLength;
      });
      this.ended = new Promise((resolve) => {
        z.once("end", resolve);
        z.once("error", (err) => {
          this.error ??= err.message;
          resolve();
        });
      });
      this.z = z;
    } else {
      this.sniffed = head.subarray(0, 4).equals(ZSTD_MAGIC) ? "zstd" : "none";
    }
  }

  private async feed(chunk: Buffer): Promise<void> {
    const z = this.z;
    if (!z || chunk.length === 0 || this.error !== undefined || z.destroyed) return;
    if (!z.write(chunk)) {
      // An error ends the wait too: it is recorded by the "error" listener.
      await Promise.race([once(z, "drain").catch(() => undefined), this.ended]);
    }
  }
}
