/**
 * The engine's error catalogue. The API maps each `code` to a tRPC/HTTP status in one place;
 * messages are written for the person reading them and are shown as they are.
 */
export type EngineErrorCode =
  | "NOT_FOUND"
  | "INVALID_ARGUMENT"
  | "CONFLICT"
  | "DIGEST_MISMATCH"
  | "INVALID_ARCHIVE"
  | "TOO_LARGE"
  /** A registry refused our credentials (not the Berth user's session). */
  | "UPSTREAM_UNAUTHORIZED"
  /** A registry could not be reached, timed out, failed or rate-limited us. */
  | "UPSTREAM_UNAVAILABLE"
  /** The caller's policy refused the change (a protected tag). */
  | "FORBIDDEN";

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** `No such image: X`, as docker prints it. */
export class NoSuchImageError extends EngineError {
  constructor(readonly reference: string) {
    super("NOT_FOUND", `No such image: ${reference}`);
  }
}

export class AmbiguousImageError extends EngineError {
  constructor(
    readonly prefix: string,
    readonly matches: number,
  ) {
    super("CONFLICT", `image ID prefix "${prefix}" is ambiguous: it matches ${matches} images`);
  }
}

export class InvalidReferenceError extends EngineError {
  /** `message` is docker's own text (e.g. `invalid reference format: repository name (library/UPPER) must be lowercase`). */
  constructor(
    readonly reference: string,
    message = "invalid reference format",
  ) {
    super("INVALID_ARGUMENT", message);
  }
}

export class BlobNotFoundError extends EngineError {
  constructor(readonly digest: string) {
    super("NOT_FOUND", `blob ${digest} not found in the store`);
  }
}

export class DigestMismatchError extends EngineError {
  constructor(
    what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super("DIGEST_MISMATCH", `${what}: digest mismatch: expected ${expected}, got ${actual}`);
  }
}

export class SizeMismatchError extends EngineError {
  constructor(
    what: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super("DIGEST_MISMATCH", `${what}: size mismatch: expected ${expected} bytes, got ${actual}`);
  }
}

/** A malformed `docker save`/OCI archive; the message names the member and what is wrong. */
export class InvalidArchiveError extends EngineError {
  constructor(message: string) {
    super("INVALID_ARCHIVE", `invalid archive: ${message}`);
  }
}

export class ConflictError extends EngineError {
  constructor(message: string) {
    super("CONFLICT", message);
  }
}

export class InvalidArgumentError extends EngineError {
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
  }
}
