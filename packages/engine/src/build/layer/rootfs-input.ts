import type { Readable } from "node:stream";

import { extract as tarExtract, type Header } from "tar-stream";

import { drained } from "../../archive/tar-input";
import { InvalidArgumentError } from "../../errors";
import { decompress, sniffCompression, SNIFF_BYTES, type TarCompression } from "./decompress";

/** A member of the tarball as tar-stream yields it: its bytes, with its header. */
export type TarMember = AsyncIterable<Buffer> & { header: Header; resume(): unknown; destroy(err?: Error): void };

export interface RootfsTar {
  compression: TarCompression;
  members: AsyncIterable<TarMember>;
  /** Resolves when the input is consumed or released (never rejects: errors reach `members`). */
  done: Promise<void>;
  /** Stops reading and destroys the input. */
  close(err?: Error): void;
}

/**
 * Opens a tarball given by a user (`docker import`'s rootfs, a commit's changes): plain, gzip, xz
 * or zstd, told apart by their first bytes, decompressed as they stream. Input that is neither a
 * tar nor a compressed tar is refused before any member is read, with an InvalidArgumentError;
 * `what` names the input in messages ("the rootfs tarball").
 */
export async function openRootfsTar(input: Readable, what: string): Promise<RootfsTar> {
  const raw = new Peekable(input as AsyncIterable<Buffer>);
  let tar: Peekable | undefined;
  let compression: TarCompression;
  try {
    const head = await raw.peek(SNIFF_BYTES);
    if (head.length === 0) throw new InvalidArgumentError(`${what} is empty`);
    compression = sniffCompression(head, what);
    tar = new Peekable(decompress(raw, compression, what));
    const block = await tar.peek(512);
    if (!looksLikeTar(block)) {
      throw new InvalidArgumentError(
        compression === "none"
          ? `${what} is not a tar archive (nor a gzip, xz or zstd-compressed one)`
          : `${what} is ${compression}-compressed, but what it holds is not a tar archive`,
      );
    }
  } catch (err) {
    await tar?.return();
    await raw.return();
    input.destroy();
    throw err;
  }
  const body = tar;

  const extract = tarExtract();
  // Listening from the start: tar-stream emits members to whoever listens, and drops them if nobody does yet.
  const iterator = (extract as AsyncIterable<TarMember>)[Symbol.asyncIterator]();
  const done = (async () => {
    try {
      for await (const chunk of body) {
        if (!extract.write(chunk)) await drained(extract);
      }
      extract.end(undefined);
    } catch (err) {
      extract.destroy(err as Error);
    } finally {
      await body.return();
    }
  })();
  return {
    compression,
    members: membersOf(iterator, what),
    done,
    close(err?: Error) {
      extract.destroy(err);
      input.destroy();
    },
  };
}

/** The extract's members, with tar-stream's parser errors reworded to name the input and the member. */
async function* membersOf(iterator: AsyncIterator<TarMember>, what: string): AsyncIterable<TarMember> {
  let current: string | undefined;
  try {
    for await (const member of { [Symbol.asyncIterator]: () => iterator }) {
      current = member.header.name;
      yield member;
    }
  } catch (err) {
    throw describeTarError(err, what, current);
  }
}

/**
 * Rewords tar-stream's parser errors (which reach both the member iterator and the member being
 * read), naming the input and the last member seen.
 */
export function describeTarError(err: unknown, what: string, member: string | undefined): Error {
  if (err instanceof InvalidArgumentError) return err;
  const message = (err as Error)?.message ?? String(err);
  const at = member === undefined ? "" : ` in or right after member ${JSON.stringify(member)}`;
  if (message === "Unexpected end of data") return new InvalidArgumentError(`${what} is truncated${at ? `: it ends${at}` : ""}`);
  if (message.startsWith("Invalid tar header") || message === "Invalid header") {
    return new InvalidArgumentError(`${what} has a corrupt tar header${at}`);
  }
  return err instanceof Error ? err : new Error(message);
}

/** A tar starts with a header block: the ustar magic, a valid checksum, or (an empty tar) zeros. */
export function looksLikeTar(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (block.subarray(257, 262).toString("latin1") === "ustar") return true;
  if (block.every((b) => b === 0)) return true;
  const stored = parseInt(
    block
      .subarray(148, 156)
      .toString("latin1")
      .replace(/[\0 ]+$/g, "")
      .trim(),
    8,
  );
  if (Number.isNaN(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/** An async byte source whose first bytes can be looked at before it is read. */
class Peekable implements AsyncIterable<Buffer> {
  private readonly iterator: AsyncIterator<Buffer>;
  private buffered: Buffer[] = [];
  private ended = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** At least `n` bytes from the start (fewer when the source ends first), without consuming them. */
  async peek(n: number): Promise<Buffer> {
    let have = this.buffered.reduce((sum, b) => sum + b.length, 0);
    while (have < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else {
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
        this.buffered.push(chunk);
        have += chunk.length;
      }
    }
    const all = Buffer.concat(this.buffered);
    this.buffered = all.length > 0 ? [all] : [];
    return all.subarray(0, n);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (const chunk of this.buffered.splice(0)) yield chunk;
    while (!this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
  }

  async return(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.iterator.return?.().catch(() => undefined);
  }
}
