import { once } from "node:events";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

import { Decompress as ZstdDecompress } from "fzstd";
import xzDecompress from "xz-decompress";

import { InvalidArgumentError } from "../../errors";

/**
 * Compressions a rootfs or changes tarball may come in, as `docker import` accepts them (bzip2
 * aside: no maintained streaming decoder without native code exists for it).
 * Node 20's zlib has gzip only; zstd is decoded by fzstd (pure JavaScript, streaming) and xz by
 * xz-decompress (xz-embedded compiled to WebAssembly, streaming): neither needs a native build.
 */
export type TarCompression = "gzip" | "xz" | "zstd" | "none";

const MAGIC: [Exclude<TarCompression, "none"> | "bzip2", number[]][] = [
  ["gzip", [0x1f, 0x8b]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  ["bzip2", [0x42, 0x5a, 0x68]],
];

/** Bytes sniffCompression needs to see (fewer only at the end of the input). */
export const SNIFF_BYTES = 6;

/** The compression judged from the first bytes, as docker's DetectCompression does. */
export function sniffCompression(head: Uint8Array, what: string): TarCompression {
  for (const [name, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) {
      if (name === "bzip2")
        throw new InvalidArgumentError(`${what} is bzip2-compressed, which is not supported: use gzip, xz, zstd or a plain tar`);
      return name;
    }
  }
  return "none";
}

/** The decompressed bytes of `source`; corrupt or truncated data fails with an InvalidArgumentError naming the format. */
export async function* decompress(source: AsyncIterable<Buffer>, compression: TarCompression, what: string): AsyncIterable<Buffer> {
  if (compression === "none") {
    yield* source;
    return;
  }
  // An input that fails (a cut connection) must not be reported as corrupt data.
  let sourceError: Error | undefined;
  const watched = (async function* () {
    try {
      yield* source;
    } catch (err) {
      sourceError = err instanceof Error ? err : new Error(String(err));
      throw sourceError;
    }
  })();
  try {
    if (compression === "gzip") yield* gunzip(watched);
    else if (compression === "zstd") yield* unzstd(watched);
    else yield* unxz(watched);
  } catch (err) {
    if (sourceError !== undefined) throw sourceError;
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(
      `${what}: its ${compression} compression is corrupt or truncated (${(err as Error)?.message ?? String(err)})`,
    );
  }
}

async function* gunzip(raw: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const z = createGunzip();
  const pump = (async () => {
    for await (const chunk of raw) {
      if (!z.write(chunk)) await once(z, "drain");
    }
    z.end();
  })();
  pump.catch((err: unknown) => z.destroy(err as Error));
  try {
    for await (const chunk of z) yield chunk as Buffer;
    await pump;
  } finally {
    z.destroy();
  }
}

async function* unzstd(raw: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const out: Buffer[] = [];
  // ondata may hand out views of fzstd's own buffers: copied before they are kept.
  const z = new ZstdDecompress((data) => {
    if (data.length > 0) out.push(Buffer.from(data));
  });
  let any = false;
  for await (const chunk of raw) {
    any ||= chunk.length > 0;
    z.push(chunk);
    while (out.length > 0) yield out.shift()!;
  }
  if (!any) throw new InvalidArgumentError("the zstd data is empty");
  z.push(new Uint8Array(0), true);
  while (out.length > 0) yield out.shift()!;
}

async function* unxz(raw: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  // Through unknown: the dashboard compiles this file with the DOM's ReadableStream, Node with its own.
  const input = Readable.toWeb(Readable.from(raw)) as unknown as ConstructorParameters<typeof xzDecompress.XzReadableStream>[0];
  const xz = new xzDecompress.XzReadableStream(input);
  // Leaving the loop early cancels the stream, which frees the decoder (xz-decompress runs one at a time).
  for await (const chunk of xz as unknown as AsyncIterable<Uint8Array>) {
    if (chunk.length > 0) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}
