import type { Readable } from "node:stream";

import { decompress, sniffCompression, SNIFF_BYTES, type TarCompression } from "../layer/decompress";

/**
 * A stream's bytes decompressed, the compression told by its magic number as docker's
 * DetectCompression does (gzip, xz, zstd or none; bzip2 is refused with a clear error).
 */
export async function decompressed(source: Readable, what: string): Promise<{ compression: TarCompression; bytes: AsyncIterable<Buffer> }> {
  const iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.length;
  }
  const head = Buffer.concat(chunks);
  let compression: TarCompression;
  try {
    compression = sniffCompression(head, what);
  } catch (err) {
    source.destroy();
    throw err;
  }
  const all = (async function* () {
    try {
      if (head.length > 0) yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      source.destroy();
    }
  })();
  return { compression, bytes: decompress(all, compression, what) };
}
