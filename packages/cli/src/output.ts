import type { Readable, Writable } from "node:stream";

/** The streams a command talks to; tests pass their own. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  /** Directory relative paths (`-o`, `-i`) are resolved against. */
  cwd: string;
}

export function processIo(cwd: string): Io {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    cwd,
  };
}

export function write(stream: Writable, text: string): void {
  if (text) stream.write(text);
}

export function println(stream: Writable, line = ""): void {
  stream.write(`${line}\n`);
}

/** Reads all of stdin as text (for `--password-stdin`). */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads one line (without the newline); `undefined` at end of input. Leaves the rest unread. */
export function readLine(stream: Readable): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer | string) => {
      buffered += chunk.toString();
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        cleanup();
        const rest = buffered.slice(nl + 1);
        if (rest) stream.unshift(Buffer.from(rest));
        resolve(buffered.slice(0, nl).replace(/\r$/, ""));
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(buffered === "" ? undefined : buffered);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.pause();
    };
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.resume();
  });
}

/**
 * Reads a secret from a terminal without echoing it. Falls back to a plain line read when
 * the stream is not a TTY.
 */
export async function readSecret(io: Io, prompt: string): Promise<string | undefined> {
  write(io.stdout, prompt);
  const tty = io.stdin as Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  if (!io.stdinIsTTY || typeof tty.setRawMode !== "function") return readLine(io.stdin);
  tty.setRawMode(true);
  try {
    return await new Promise<string | undefined>((resolve) => {
      let secret = "";
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") {
            tty.off("data", onData);
            tty.pause();
            resolve(secret);
            return;
          }
          if (ch === "\u0003" || ch === "\u0004") {
            tty.off("data", onData);
            tty.pause();
            resolve(undefined);
            return;
          }
          if (ch === "\u007f" || ch === "\b") secret = secret.slice(0, -1);
          else secret += ch;
        }
      };
      tty.on("data", onData);
      tty.resume();
    });
  } finally {
    tty.setRawMode(false);
    write(io.stdout, "\n");
  }
}
