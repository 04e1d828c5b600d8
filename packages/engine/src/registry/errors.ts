import { EngineError, type EngineErrorCode } from "../errors";

/**
 * What went wrong talking to a registry. `kind` is finer than the engine's error code:
 * the catalogue has no UNAUTHORIZED or UNAVAILABLE code yet, so those map to the nearest
 * existing one in `engineCode` below (the only place to change when codes are added).
 */
export type RegistryErrorKind =
  | "not-found"
  | "unauthorized"
  | "denied"
  | "invalid"
  | "unsupported"
  | "too-large"
  | "rate-limited"
  | "unavailable"
  | "timeout"
  | "protocol";

function engineCode(kind: RegistryErrorKind): EngineErrorCode {
  switch (kind) {
    case "not-found":
      return "NOT_FOUND";
    case "too-large":
      return "TOO_LARGE";
    case "denied":
    case "unauthorized":
      return "UPSTREAM_UNAUTHORIZED";
    case "invalid":
    case "unsupported":
      return "INVALID_ARGUMENT";
    default:
      // rate-limited, unavailable, timeout, protocol
      return "UPSTREAM_UNAVAILABLE";
  }
}

/** A registry request failed. Messages name the registry object, never credentials or tokens. */
export class RegistryError extends EngineError {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly details: { status?: number; registryCode?: string } = {},
  ) {
    super(engineCode(kind), message);
  }
}

/** The registry wants credentials we do not have, or rejected the ones we sent. */
export class RegistryUnauthorizedError extends RegistryError {
  constructor(host: string, what: string, detail?: string) {
    super("unauthorized", `unauthorized: authentication required for ${what} on ${host}${detail ? ` (${detail})` : ""}`, {
      status: 401,
      registryCode: "UNAUTHORIZED",
    });
  }
}

/** Schema1 and anything else we cannot read: named so the user knows why a pull stops. */
export class UnsupportedMediaTypeError extends RegistryError {
  constructor(
    readonly mediaType: string,
    what: string,
  ) {
    super(
      "unsupported",
      `unsupported media type ${mediaType} for ${what}${isSchema1(mediaType) ? " (Docker schema1 manifests are not supported)" : ""}`,
    );
  }
}

export class RegistryTimeoutError extends RegistryError {
  constructor(what: string, ms: number, phase: "headers" | "body") {
    super("timeout", `timed out after ${ms} ms waiting for ${phase === "headers" ? "a response" : "data"} from ${what}`);
  }
}

/** `AbortSignal` fired: rethrown as the signal's reason when it has one. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error("the operation was aborted");
  err.name = "AbortError";
  return err;
}

export const SCHEMA1_MEDIA_TYPES: readonly string[] = [
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

export function isSchema1(mediaType: string): boolean {
  return SCHEMA1_MEDIA_TYPES.includes(mediaType);
}

/** Distribution's error codes (docs: "Errors" in the distribution spec) to our kinds. */
const CODE_KINDS: Record<string, RegistryErrorKind> = {
  BLOB_UNKNOWN: "not-found",
  MANIFEST_UNKNOWN: "not-found",
  MANIFEST_BLOB_UNKNOWN: "not-found",
  NAME_UNKNOWN: "not-found",
  BLOB_UPLOAD_UNKNOWN: "not-found",
  UNAUTHORIZED: "unauthorized",
  DENIED: "denied",
  TOOMANYREQUESTS: "rate-limited",
  UNSUPPORTED: "unsupported",
  UNAVAILABLE: "unavailable",
};

function kindOfStatus(status: number): RegistryErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "denied";
  if (status === 404) return "not-found";
  if (status === 413) return "too-large";
  if (status === 429) return "rate-limited";
  if (status >= 500) return "unavailable";
  return "invalid";
}

/**
 * Turns a failed response into an error: `manifest unknown: fixtures/app:nope`.
 * `body` is the (size-capped) response body; `subject` names what was asked for.
 */
export function errorFromResponse(status: number, body: Buffer | undefined, subject: string): RegistryError {
  let first: { code?: unknown; message?: unknown } | undefined;
  try {
    const parsed = body && body.length > 0 ? (JSON.parse(body.toString("utf8")) as { errors?: unknown }) : undefined;
    if (Array.isArray(parsed?.errors)) first = parsed.errors[0] as typeof first;
  } catch {
    // not JSON: fall back to the status
  }
  const code = typeof first?.code === "string" ? first.code : undefined;
  const kind = (code && CODE_KINDS[code]) || kindOfStatus(status);
  const text =
    typeof first?.message === "string" && first.message ? first.message : code ? code.toLowerCase().replace(/_/g, " ") : `HTTP ${status}`;
  return new RegistryError(kind, `${text}: ${subject}`, { status, registryCode: code });
}
