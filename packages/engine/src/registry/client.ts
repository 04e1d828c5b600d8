import { Digest } from "../digest";
import { DigestMismatchError } from "../errors";
import { MediaType } from "../media-types";
import { Authenticator, CATALOG_SCOPE, pullScope, type Credentials } from "./auth";
import { fetchBlobInto, type FetchBlobOptions, type FetchBlobResult } from "./blob-fetch";
import { TransferThreadUnavailable, TransferUnauthorized, fetchOffThread, offThreadRoot, sendOffThread } from "./transfer-thread";
import { RegistryError, RegistryUnauthorizedError, UnsupportedMediaTypeError, errorFromResponse, isSchema1 } from "./errors";
import {
  Transport,
  readCapped,
  readErrorBody,
  type HttpMethod,
  type RequestBody,
  type TransportOptions,
  type TransportRequest,
  type TransportResponse,
} from "./transport";
import {
  blobExists,
  cancelUpload,
  putManifest,
  startUpload,
  uploadBlob,
  type BlobSource,
  type UploadOptions,
  type UploadStart,
} from "./upload";

/**
 * A client for one registry host speaking the OCI Distribution / Docker Registry HTTP API v2:
 * manifests, blobs, tags and the catalog, pull side. Stateless apart from the auth cache.
 */
export interface RegistryClientOptions {
  /** `host[:port]`, e.g. `registry.example.com` or `127.0.0.1:5000`. */
  host: string;
  /** Plain HTTP allowed and TLS not verified (docker's insecure-registries): tries HTTPS, falls back to HTTP. */
  insecure?: boolean;
  /** PEM bundle of the CAs to trust for this registry. */
  ca?: string;
  credentials?: Credentials;
  userAgent?: string;
  /** Connect/headers deadline and body idle timeout per request; default 30 s. */
  timeoutMs?: number;
  /** Retries of idempotent requests on network errors, 5xx and 429; default 3. */
  retries?: number;
  /** First retry delay (doubling); default 250 ms. */
  retryDelayMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface ManifestOptions extends RequestOptions {
  /** Media types to ask for; default every type the engine reads. */
  accept?: readonly string[];
  /** Largest manifest accepted; default 4 MiB. */
  maxBytes?: number;
}

export interface Manifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

export interface ManifestHead {
  digest: Digest;
  mediaType: string;
  size: number;
}

export interface PageOptions extends RequestOptions {
  /** Page size asked for (`n`); the registry may send fewer. */
  pageSize?: number;
}

export interface GetJsonOptions extends RequestOptions {
  query?: Record<string, string>;
  /** Token scope to ask for (e.g. `registry:catalog:*`). */
  scope?: string;
  /** Names the request in messages; default the path. */
  what?: string;
  /** Largest body accepted; default 16 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MANIFEST_ACCEPT: readonly string[] = [
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.ociIndex,
];

const DEFAULT_MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
const MAX_PAGES = 10_000;

interface Call extends RequestOptions {
  method: HttpMethod;
  /** A path, or an absolute URL the registry sent (links, upload Locations). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: RequestBody;
  retries?: number;
  scope?: string;
  what: string;
  /** Allows a URL on another host (an upload Location); it is sent there without our credentials. */
  anyHost?: boolean;
}

export class RegistryClient {
  readonly host: string;
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private base: Promise<string> | undefined;

  constructor(private readonly options: RegistryClientOptions) {
    if (!/^[a-zA-Z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(options.host)) {
      throw new RegistryError("invalid", `invalid registry host "${options.host}": expected host[:port]`);
    }
    this.host = options.host;
    this.transport = new Transport(options);
    this.auth = new Authenticator(options.host, this.transport, options.credentials);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  /**
   * `GET /v2/`: checks that the host speaks the v2 API and, with credentials, that they are
   * accepted. Anonymous clients of a registry that wants auth get `authScheme` back, no error.
   */
  async ping(opts: RequestOptions = {}): Promise<{ authScheme: "none" | "basic" | "bearer" }> {
    const what = `the registry API`;
    try {
      const res = await this.call({ method: "GET", path: "/v2/", what, signal: opts.signal });
      await readErrorBody(res.body);
      if (res.status !== 200) throw errorFromResponse(res.status, undefined, `${this.host}/v2/`);
      if (res.headers["docker-distribution-api-version"] === undefined && res.headers["content-type"]?.includes("text/html")) {
        throw new RegistryError("protocol", `${this.host} does not look like a registry (no v2 API)`);
      }
    } catch (err) {
      if (err instanceof RegistryUnauthorizedError && !this.auth.hasCredentials) return { authScheme: this.auth.scheme };
      throw err;
    }
    return { authScheme: this.auth.scheme };
  }

  /** Fetches a manifest or index; verifies it against the digest asked for or sent by the registry. */
  async getManifest(repo: string, reference: string, opts: ManifestOptions = {}): Promise<Manifest> {
    const subject = subjectOf(repo, reference);
    const maxBytes = opts.maxBytes ?? DEFAULT_MANIFEST_MAX_BYTES;
    const res = await this.manifestRequest("GET", repo, reference, opts);
    const declared = Number(res.headers["content-length"]);
    const tooLarge = () =>
      new RegistryError("too-large", `manifest ${subject} is larger than the ${maxBytes} bytes allowed`, {
        status: res.status,
      });
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.body.destroy();
      throw tooLarge();
    }
    const bytes = await readCapped(res.body, maxBytes, tooLarge);
    const mediaType = manifestMediaType(res.headers["content-type"], bytes, subject, opts.accept ?? DEFAULT_MANIFEST_ACCEPT);
    const actual = Digest.of(bytes);
    const expected = Digest.tryParse(reference) ?? headerDigest(res, subject);
    if (expected && !expected.equals(actual)) {
      throw new DigestMismatchError(`manifest ${subject}`, expected.toString(), actual.toString());
    }
    return { digest: actual, mediaType, bytes };
  }

  /** `HEAD` of a manifest: digest, media type and size without the body. */
  async headManifest(repo: string, reference: string, opts: ManifestOptions = {}): Promise<ManifestHead> {
    const subject = subjectOf(repo, reference);
    const res = await this.manifestRequest("HEAD", repo, reference, opts);
    res.body.resume();
    const digest = headerDigest(res, subject) ?? Digest.tryParse(reference);
    const contentType = res.headers["content-type"]?.split(";")[0]?.trim();
    if (!digest || !contentType) {
      // Without Docker-Content-Digest (or a type) a HEAD says too little: fetch the bytes instead.
      const full = await this.getManifest(repo, reference, opts);
      return { digest: full.digest, mediaType: full.mediaType, size: full.bytes.length };
    }
    if (isSchema1(contentType)) throw new UnsupportedMediaTypeError(contentType, `manifest ${subject}`);
    return { digest, mediaType: contentType, size: Number(res.headers["content-length"] ?? 0) };
  }

  /** Streams a blob into the store, verified; see fetchBlobInto. On the download thread where the store allows it. */
  async fetchBlob(repo: string, digest: Digest, opts: FetchBlobOptions): Promise<FetchBlobResult> {
    const subject = `${repo}@${digest.toString()}`;
    const root = opts.offThread === false ? undefined : offThreadRoot(opts.blobs);
    if (root !== undefined) {
      try {
        return await this.fetchBlobOffThread(repo, digest, subject, root, opts);
      } catch (err) {
        if (!(err instanceof TransferThreadUnavailable)) throw err;
      }
    }
    return fetchBlobInto(
      (headers, signal) =>
        this.call({
          method: "GET",
          path: `/v2/${repo}/blobs/${digest.toString()}`,
          headers,
          scope: pullScope(repo),
          what: subject,
          signal,
        }),
      subject,
      digest,
      opts,
    );
  }

  /** fetchBlob with the bytes moved by the download thread; auth is answered here, as `call` does. */
  private async fetchBlobOffThread(
    repo: string,
    digest: Digest,
    subject: string,
    root: string,
    opts: FetchBlobOptions,
  ): Promise<FetchBlobResult> {
    const existing = await opts.blobs.stat(digest);
    if (existing && (opts.expectedSize === undefined || existing.size === opts.expectedSize)) {
      return { digest, size: existing.size, created: false };
    }
    const url = new URL(`/v2/${repo}/blobs/${digest.toString()}`, await this.baseUrl(opts.signal));
    const scope = pullScope(repo);
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.auth.authorization(scope, opts.signal);
      try {
        return await fetchOffThread(
          {
            url,
            authorization,
            transport: this.transportOptions(),
            root,
            digest,
            expectedSize: opts.expectedSize,
            measureLayer: opts.measureLayer ?? false,
            resumes: opts.resumes,
            subject,
            what: `${subject} on ${this.host}`,
          },
          { onProgress: opts.onProgress, signal: opts.signal },
        );
      } catch (err) {
        if (!(err instanceof TransferUnauthorized)) throw err;
        if (attempt === 0 && this.auth.onUnauthorized(err.challenge, scope, authorization !== undefined)) continue;
        throw new RegistryUnauthorizedError(this.host, subject, this.auth.hasCredentials ? "credentials rejected" : "no credentials given");
      }
    }
  }

  /** `HEAD` of a blob: its size, or a NOT_FOUND error. */
  async headBlob(repo: string, digest: Digest, opts: RequestOptions = {}): Promise<{ digest: Digest; size: number }> {
    const subject = `${repo}@${digest.toString()}`;
    const res = await this.call({
      method: "HEAD",
      path: `/v2/${repo}/blobs/${digest.toString()}`,
      scope: pullScope(repo),
      what: subject,
      signal: opts.signal,
    });
    res.body.resume();
    if (res.status === 404)
      throw new RegistryError("not-found", `blob unknown: ${subject}`, {
        status: 404,
        registryCode: "BLOB_UNKNOWN",
      });
    if (res.status !== 200) throw errorFromResponse(res.status, undefined, subject);
    return { digest, size: Number(res.headers["content-length"] ?? 0) };
  }

  /** Every tag of a repository, following `Link` pagination. */
  async listTags(repo: string, opts: PageOptions = {}): Promise<string[]> {
    const tags: string[] = [];
    for await (const page of this.pages(`/v2/${repo}/tags/list`, pullScope(repo), repo, opts)) {
      const list = (page as { tags?: unknown }).tags;
      if (Array.isArray(list)) tags.push(...list.filter((t): t is string => typeof t === "string"));
    }
    return tags;
  }

  /** Every repository the registry lists (`/v2/_catalog`), following pagination. */
  async catalog(opts: PageOptions = {}): Promise<string[]> {
    const repos: string[] = [];
    for await (const page of this.pages("/v2/_catalog", CATALOG_SCOPE, "the catalog", opts)) {
      const list = (page as { repositories?: unknown }).repositories;
      if (Array.isArray(list)) repos.push(...list.filter((r): r is string => typeof r === "string"));
    }
    return repos;
  }

  /**
   * `GET` of a small JSON document at `path` (e.g. `/v1/search`) with auth, for endpoints the
   * typed methods do not cover. Non-200 answers throw like every call (`details.status` says
   * which); a 200 that is an HTML page (a web UI in front of the registry) is `unsupported`.
   */
  async getJson(path: string, opts: GetJsonOptions = {}): Promise<unknown> {
    const what = opts.what ?? path;
    const res = await this.call({ method: "GET", path, query: opts.query, scope: opts.scope, what, signal: opts.signal });
    if (res.status !== 200) throw errorFromResponse(res.status, await readErrorBody(res.body), what);
    const maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    const tooLarge = () => new RegistryError("too-large", `${what} on ${this.host}: larger than ${maxBytes} bytes`);
    const body = await readCapped(res.body, maxBytes, tooLarge);
    if (res.headers["content-type"]?.includes("text/html")) {
      throw new RegistryError("unsupported", `${what} on ${this.host} answered with an HTML page, not JSON`, { status: res.status });
    }
    try {
      return JSON.parse(body.toString("utf8")) as unknown;
    } catch {
      throw new RegistryError("protocol", `registry ${this.host} sent invalid JSON for ${what}`);
    }
  }

  // --- push side (registry/upload.ts) ---------------------------------------------------

  /** `HEAD` of a blob with push scope: whether the repository pushed to has it. */
  blobExists(repo: string, digest: Digest, opts: RequestOptions = {}): Promise<boolean> {
    return blobExists(this.send, repo, digest, opts.signal);
  }

  /** Opens an upload session, or mounts the blob from `mount.from` on the same registry. */
  startUpload(repo: string, opts: { mount?: { digest: Digest; from: string }; signal?: AbortSignal } = {}): Promise<UploadStart> {
    return startUpload(this.send, repo, opts);
  }

  /** Streams a blob into an upload session (monolithic, or chunked with `chunkSize`) and completes it. */
  uploadBlob(repo: string, location: string, digest: Digest, source: BlobSource, opts: UploadOptions = {}): Promise<void> {
    return uploadBlob(this.send, repo, location, digest, source, opts);
  }

  /** Drops an upload session; never throws. */
  cancelUpload(repo: string, location: string): Promise<void> {
    return cancelUpload(this.send, repo, location);
  }

  /** Stores a manifest under a tag or digest; returns its digest. */
  putManifest(repo: string, reference: string, manifest: { mediaType: string; bytes: Buffer }, opts: RequestOptions = {}): Promise<Digest> {
    return putManifest(this.send, repo, reference, manifest, opts.signal);
  }

  private readonly send = (call: Call) => this.call(call);

  // --- internals ---------------------------------------------------------------------

  private async manifestRequest(method: "GET" | "HEAD", repo: string, reference: string, opts: ManifestOptions) {
    const subject = subjectOf(repo, reference);
    const res = await this.call({
      method,
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: (opts.accept ?? DEFAULT_MANIFEST_ACCEPT).join(", ") },
      scope: pullScope(repo),
      what: subject,
      signal: opts.signal,
    });
    if (res.status !== 200) {
      const body = method === "GET" ? await readErrorBody(res.body) : (res.body.resume(), undefined);
      if (res.status === 404 && !body) throw new RegistryError("not-found", `manifest unknown: ${subject}`, { status: 404 });
      throw errorFromResponse(res.status, body, subject);
    }
    return res;
  }

  /** Pages of a paginated list; the next page comes from `Link: <...>; rel="next"`. */
  private async *pages(path: string, scope: string, what: string, opts: PageOptions): AsyncGenerator<unknown> {
    let next: string | undefined = path + (opts.pageSize ? `?n=${opts.pageSize}` : "");
    const seen = new Set<string>();
    while (next) {
      if (seen.has(next) || seen.size >= MAX_PAGES) throw new RegistryError("protocol", `pagination of ${what} does not end`);
      seen.add(next);
      const res = await this.call({ method: "GET", path: next, scope, what, signal: opts.signal });
      if (res.status !== 200) throw errorFromResponse(res.status, await readErrorBody(res.body), what);
      const body = await readCapped(res.body, 16 * 1024 * 1024, () => new RegistryError("too-large", `${what}: page too large`));
      let page: unknown;
      try {
        page = JSON.parse(body.toString("utf8"));
      } catch {
        throw new RegistryError("protocol", `registry sent invalid JSON for ${what}`);
      }
      yield page;
      next = nextLink(res.headers.link);
    }
  }

  /** One API call with auth: a 401 records the challenge and retries once. */
  private async call(call: Call): Promise<TransportResponse> {
    const base = await this.baseUrl(call.signal);
    const url = new URL(call.path, base);
    for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
    const sameOrigin = url.origin === new URL(base).origin;
    if (!sameOrigin && !call.anyHost) throw new RegistryError("protocol", `registry ${this.host} sent a link to another host`);
    for (let attempt = 0; ; attempt++) {
      const authorization = sameOrigin ? await this.auth.authorization(call.scope, call.signal) : undefined;
      const req = {
        method: call.method,
        url,
        headers: call.headers,
        body: call.body,
        retries: call.retries,
        authorization,
        signal: call.signal,
        what: `${call.what} on ${this.host}`,
      };
      const res = await this.sendRequest(req);
      if (res.status !== 401 || !sameOrigin) return res;
      await readErrorBody(res.body);
      const retry = attempt === 0 && this.auth.onUnauthorized(res.headers["www-authenticate"], call.scope, authorization !== undefined);
      if (!retry) {
        throw new RegistryUnauthorizedError(
          this.host,
          call.what,
          this.auth.hasCredentials ? "credentials rejected" : "no credentials given",
        );
      }
    }
  }

  /** A body that is a local file (a blob being pushed) is sent from the transfer thread when it can be. */
  private async sendRequest(req: TransportRequest): Promise<TransportResponse> {
    const { body } = req;
    if (body?.file) {
      try {
        return await sendOffThread({ ...req, body: { ...body, file: body.file } }, this.transportOptions());
      } catch (err) {
        if (!(err instanceof TransferThreadUnavailable)) throw err;
      }
    }
    return this.transport.send(req);
  }

  /** What the transfer thread needs to send as this client's transport does (no credentials). */
  private transportOptions(): TransportOptions {
    const { insecure, ca, userAgent, timeoutMs, retries, retryDelayMs } = this.options;
    return { insecure, ca, userAgent, timeoutMs, retries, retryDelayMs };
  }

  /** `https://host` unless insecure, where HTTPS is tried once and plain HTTP used if it fails. */
  private baseUrl(signal?: AbortSignal): Promise<string> {
    if (!this.options.insecure) return Promise.resolve(`https://${this.host}`);
    this.base ??= this.probeScheme(signal).catch((err: unknown) => {
      this.base = undefined;
      throw err;
    });
    return this.base;
  }

  private async probeScheme(signal?: AbortSignal): Promise<string> {
    const https = `https://${this.host}`;
    const probe = new Transport({ ...this.options, retries: 0 });
    try {
      const res = await probe.send({
        method: "GET",
        url: new URL("/v2/", https),
        signal,
        what: `${this.host} over HTTPS`,
      });
      await readErrorBody(res.body);
      return https;
    } catch (err) {
      if (signal?.aborted) throw err;
      return `http://${this.host}`;
    } finally {
      probe.close();
    }
  }
}

function subjectOf(repo: string, reference: string): string {
  return Digest.tryParse(reference) ? `${repo}@${reference}` : `${repo}:${reference}`;
}

function headerDigest(res: TransportResponse, subject: string): Digest | undefined {
  const value = res.headers["docker-content-digest"];
  if (typeof value !== "string" || value === "") return undefined;
  const digest = Digest.tryParse(value.trim());
  if (!digest) throw new RegistryError("protocol", `registry sent an unsupported Docker-Content-Digest "${value}" for ${subject}`);
  return digest;
}

/** The media type from Content-Type, or from the manifest's own `mediaType` when the header is generic. */
function manifestMediaType(contentType: string | undefined, bytes: Buffer, subject: string, accepted: readonly string[]): string {
  const header = contentType?.split(";")[0]?.trim() ?? "";
  let type = header;
  if (!header || header === "application/json" || header === "text/plain" || header === "application/octet-stream") {
    let parsed: { mediaType?: unknown; schemaVersion?: unknown } | undefined;
    try {
      parsed = JSON.parse(bytes.toString("utf8")) as typeof parsed;
    } catch {
      throw new RegistryError("protocol", `manifest ${subject} is not valid JSON`);
    }
    if (parsed?.schemaVersion === 1) type = SCHEMA1;
    else if (typeof parsed?.mediaType === "string") type = parsed.mediaType;
    else type = header || "(none)";
  }
  if (!accepted.includes(type)) throw new UnsupportedMediaTypeError(type, `manifest ${subject}`);
  return type;
}

const SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";

/** `<\/v2/x/tags/list?last=b&n=1>; rel="next"` → the path and query. */
function nextLink(header: string | string[] | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of (Array.isArray(header) ? header.join(",") : header).split(",")) {
    const m = /^\s*<([^>]+)>\s*;(.*)$/.exec(part);
    if (m && /rel="?next"?/.test(m[2] ?? "")) return m[1];
  }
  return undefined;
}
