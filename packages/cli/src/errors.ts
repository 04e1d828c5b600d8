/**
 * The CLI's error catalogue. Every failure ends up as one of these, and `main` prints it the
 * way docker does: server errors with docker's `Error response from daemon:` prefix, local
 * ones with `Error:`, usage errors as-is with exit code 125. Never a stack trace.
 */

/** The server refused or failed a request; `message` is the server's text. */
export class DaemonError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A local failure (bad file, missing flag combination, …). */
export class LocalError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Wrong flags: printed verbatim, exit 125 like docker's flag errors. */
export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 125) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** A message printed verbatim (docker prints a few errors without prefix). */
export class PlainError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The user declined a prompt: docker exits 0 without a message. */
export class Cancelled extends Error {}

export function renderError(err: unknown): { text: string; exitCode: number } {
  if (err instanceof DaemonError) return { text: `Error response from daemon: ${err.message}`, exitCode: 1 };
  if (err instanceof UsageError) return { text: err.message, exitCode: err.exitCode };
  if (err instanceof PlainError) return { text: err.message, exitCode: err.exitCode };
  if (err instanceof LocalError) return { text: `Error: ${err.message}`, exitCode: err.exitCode };
  if (err instanceof Cancelled) return { text: "", exitCode: 0 };
  const message = err instanceof Error ? err.message : String(err);
  return { text: `Error: ${message}`, exitCode: 1 };
}
