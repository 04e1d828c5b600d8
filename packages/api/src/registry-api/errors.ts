import { errorMessage } from "../errors";

/** The distribution spec's error codes, with the status each is answered with. */
const STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
} as const;

export type RegistryErrorCode = keyof typeof STATUS;

/** A refusal in the spec's terms: `{"errors":[{code, message, detail}]}` with the code's status. */
export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly detail?: unknown,
    readonly headers: Record<string, string> = {},
    /** When the spec asks for another status than the code's usual one (413 for an oversized manifest). */
    private readonly statusOverride?: number,
  ) {
    super(message);
    this.name = "RegistryError";
  }

  get status(): number {
    return this.statusOverride ?? STATUS[this.code];
  }
}

export const API_VERSION_HEADER = { "docker-distribution-api-version": "registry/2.0" } as const;

export function registryErrorResponse(err: unknown): Response {
  const e = err instanceof RegistryError ? err : undefined;
  if (!e) console.error(err);
  const status = e?.status ?? 500;
  const body = { errors: [{ code: e?.code ?? "UNKNOWN", message: e ? e.message : errorMessage(err), detail: e?.detail ?? null }] };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...API_VERSION_HEADER, ...e?.headers },
  });
}
