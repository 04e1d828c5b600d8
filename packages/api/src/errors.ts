import { TRPCError } from "@trpc/server";
import { EngineError, type EngineErrorCode } from "@berth/engine";

const CODES: Record<EngineErrorCode, TRPCError["code"]> = {
  NOT_FOUND: "NOT_FOUND",
  INVALID_ARGUMENT: "BAD_REQUEST",
  CONFLICT: "CONFLICT",
  DIGEST_MISMATCH: "BAD_REQUEST",
  INVALID_ARCHIVE: "BAD_REQUEST",
  TOO_LARGE: "PAYLOAD_TOO_LARGE",
  // Not UNAUTHORIZED: that would tell the dashboard the Berth session is gone.
  UPSTREAM_UNAUTHORIZED: "FORBIDDEN",
  UPSTREAM_UNAVAILABLE: "BAD_GATEWAY",
  FORBIDDEN: "FORBIDDEN",
};

/** HTTP status for plain HTTP endpoints (upload, download) that share the catalogue. */
export const HTTP_STATUS: Record<TRPCError["code"], number> = {
  PARSE_ERROR: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  TIMEOUT: 408,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  CLIENT_CLOSED_REQUEST: 499,
  INTERNAL_SERVER_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
  PAYMENT_REQUIRED: 402,
  PRECONDITION_REQUIRED: 428,
};

export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (err instanceof EngineError) return new TRPCError({ code: CODES[err.code], message: err.message, cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message, cause: err });
}

/** A refusal (permissions, a protected tag) rather than a failure: audited as `denied`. */
export function isDenial(err: unknown): boolean {
  // Not UPSTREAM_UNAUTHORIZED: a registry refusing the team's credentials is a failure.
  return err instanceof EngineError ? err.code === "FORBIDDEN" : err instanceof TRPCError && err.code === "FORBIDDEN";
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
