/**
 * Everything the CLI knows about the server: the tRPC client, the two plain HTTP endpoints
 * (archive upload and download), the adapters from the server's output types to the views
 * the commands print, and the mapping of failures to `DaemonError`/`PlainError`.
 * The adapters take `RouterOutputs` as they are: a changed procedure output fails to compile here.
 */
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import type { AppRouter, importImageFor, loadArchiveFor, RouterOutputs } from "@berth/api";
import { transformer } from "@berth/api/transformer";
import type { Target } from "./config";
import { DaemonError, LocalError, PlainError } from "./errors";
import { registriesApi, type RegistriesApi } from "./registries-api";
import { protectionApi, type ProtectionApi } from "./protection-api";
import { publicNamespacesApi, type PublicNamespacesApi } from "./public-api";
import { peopleApi, type PeopleApi } from "./people-api";

// ---------------------------------------------------------------------------------------------
// Views: what commands print
// ---------------------------------------------------------------------------------------------

type ImageListRow = RouterOutputs["images"]["list"][number];
type DiskUsageImageRow = NonNullable<RouterOutputs["system"]["df"]["rows"]>[number];
type ServerAuditEvent = RouterOutputs["audit"]["list"]["events"][number];
/** What `POST /api/images/load` answers with. */
type LoadResult = Awaited<ReturnType<typeof loadArchiveFor>>;
/** What `POST /api/images/import` and `/commit` answer with: the new image ID, the tag set. */
export type ImageEditResult = Awaited<ReturnType<typeof importImageFor>>;

/** A row of `images` and of `system df -v`: the union of the two server rows. */
export interface ImageRow {
  repository: string;
  tag: string;
  /** `sha256:<hex>`. */
  id: string;
  /** null for `<none>` and for `system df` rows. */
  digest: string | null;
  created: Date | null;
  size: number;
  /** -1 when unknown (docker prints N/A). */
  sharedSize: number;
  uniqueSize: number;
  labels: Record<string, string>;
  /** -1 for `images` rows (docker prints N/A). */
  containers: number;
}

/** A `docker search` result, with what Berth adds (the reference to pull, whether it is in the store). */
export type SearchRow = RouterOutputs["search"]["remote"]["rows"][number];

/** `docker history` rows, as the server computes them (`id` is `<missing>` for foreign layers). */
export type HistoryRow = RouterOutputs["images"]["history"][number];

export type RemoveItem = RouterOutputs["images"]["remove"]["results"][number]["items"][number];

export interface RemoveResult {
  ref: string;
  items: RemoveItem[];
  error?: string;
}

export interface PruneResult {
  deleted: string[];
  untagged: string[];
  /** Images kept although they matched, with why (pinned). */
  skipped: { id: string; reason: string }[];
  spaceReclaimed: number;
}

export interface DiskUsageRow {
  type: string;
  totalCount: number;
  active: number;
  size: number;
  reclaimable: number;
}

export interface DiskUsage {
  summary: DiskUsageRow[];
  /** Per image, with `-v`. */
  images: ImageRow[];
}

export interface AuditTarget {
  ref: string;
  digestBefore?: string | null;
  digestAfter?: string | null;
}

/** An audit event as `audit --format json|csv` prints it: these fields, in this order. */
export interface AuditEvent {
  id: string;
  at: Date;
  actorName: string;
  action: string;
  result: string;
  error: string | null;
  interface: string;
  ip: string | null;
  userAgent: string | null;
  targets: AuditTarget[];
  details: Record<string, unknown>;
  hash: string;
}

/** The audit filters (`berth audit --filter key=value`), as the server takes them. */
export interface AuditFilter {
  person?: string;
  /** Exact, or a prefix such as `image.*`. */
  action?: string;
  namespace?: string;
  repository?: string;
  /** `v1.2`, or `team-a/app:v1.2`. */
  tag?: string;
  /** A digest, or a unique prefix of at least 12 hex characters. */
  digest?: string;
  result?: "ok" | "denied" | "failed";
  from?: Date;
  to?: Date;
}

export interface AuditQuery extends AuditFilter {
  /** Opaque: the previous page's `nextCursor`. */
  cursor?: string;
  limit: number;
}

/** `berth audit verify`: the whole chain re-walked on the server. */
export type AuditChainVerification = RouterOutputs["audit"]["verify"];

/** A server job's lifecycle (`jobs.get`). */
export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** One layer of a pull job's progress, in docker's words (`id` is the 12-character short digest). */
export interface JobLayer {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

/** What `pull` prints from a job: its state, docker's status lines and the layers. */
export interface PullJob {
  id: string;
  state: JobState;
  /** "Pulling from …", "Digest: …", "Status: …", in order. */
  lines: string[];
  layers: JobLayer[];
  /** The server's message when the job failed or was cancelled. */
  error: string | null;
  /** What the job stored when it succeeded (a build: `{ id, tags, … }`). */
  result?: Record<string, unknown> | null;
}

export interface LoginResult {
  token: string;
  tokenId: string;
}

/** The operations commands use; tests substitute a fake. */
export interface BerthApi {
  readonly url: string;
  readonly hasToken: boolean;
  login(input: { username: string; password: string; name: string }): Promise<LoginResult>;
  revokeToken(id: string): Promise<void>;
  listImages(input: { all: boolean; filters: Record<string, string[]>; reference?: string }): Promise<ImageRow[]>;
  /** The inspect documents are printed as they are (JSON or a template), never read. */
  inspectImages(refs: string[]): Promise<{ images: unknown[]; missing: string[] }>;
  history(ref: string): Promise<HistoryRow[]>;
  tag(source: string, target: string): Promise<void>;
  remove(refs: string[], force: boolean): Promise<RemoveResult[]>;
  prune(input: { all: boolean; filters: Record<string, string[]>; dryRun: boolean }): Promise<PruneResult>;
  diskUsage(verbose: boolean): Promise<DiskUsage>;
  audit(query: AuditQuery): Promise<{ events: AuditEvent[]; nextCursor: string | null }>;
  /** `GET /api/audit/export`: the filtered log, newest first, streamed. */
  auditExport(filter: AuditFilter, format: "csv" | "jsonl"): Promise<Readable>;
  /** `POST /api/audit/archive` (admin): a verifiable archive of [from, to), recorded as an `audit.archive` event. */
  auditArchive(range: { from?: Date; to?: Date }): Promise<Readable>;
  auditVerify(): Promise<AuditChainVerification>;
  /** `POST /api/images/load`: streams `body` as the request body; returns docker's output lines. */
  load(body: Readable, source: string): Promise<string[]>;
  /** `GET /api/images/save`: the archive as a stream (errors before the first byte are thrown). */
  save(refs: string[]): Promise<Readable>;
  /** `POST /api/images/import`: streams the rootfs tarball (`query`: ref, change, message, platform, source). */
  importImage(body: Readable, query: URLSearchParams): Promise<ImageEditResult>;
  /** `POST /api/images/commit`: base + optional changes tarball (`query`: base, ref, change, message, author, delete). */
  commitImage(body: Readable | null, query: URLSearchParams): Promise<ImageEditResult>;
  /** `POST /api/images/build`: uploads the context tar and queues a build job (`query`: t, f, buildarg, label, …). */
  buildImage(context: Readable, query: URLSearchParams): Promise<{ id: string }>;
  /** Starts a server-side pull job; the pull goes on when the client goes away. */
  pullImage(input: { ref: string; platform?: string }): Promise<{ id: string }>;
  /** Starts a server-side push job (`-a`: every tag of the repository), with the team's registry credentials. */
  pushImage(input: { ref: string; allTags?: boolean }): Promise<{ id: string }>;
  getJob(id: string): Promise<PullJob>;
  cancelJob(id: string): Promise<void>;
  /** The team's registry settings: mirrors, insecure, CA, credentials (`berth registry …`). */
  registries: RegistriesApi;
  /** Tag protection rules and pinned images (`berth protect …`, `berth pin`/`unpin`). */
  protection: ProtectionApi;
  /** Namespaces anyone may pull from (`berth public …`). */
  publicNamespaces: PublicNamespacesApi;
  /** Users, grants and tokens (`berth user …`, `berth token …`). */
  people: PeopleApi;
  /** `docker search`: the server asks the registry the term names (docker.io by default). */
  searchRemote(input: { term: string; limit?: number; filters: Record<string, string[]> }): Promise<SearchRow[]>;
}

// ---------------------------------------------------------------------------------------------
// Adapters: server output → views
// ---------------------------------------------------------------------------------------------

export function toImageRow(row: ImageListRow): ImageRow {
  return { ...row, digest: row.digest === "<none>" ? null : row.digest, containers: -1 };
}

function toDiskUsageImageRow(row: DiskUsageImageRow): ImageRow {
  return { ...row, digest: null, labels: {} };
}

export function toRemoveResults({ results }: RouterOutputs["images"]["remove"]): RemoveResult[] {
  return results.map(({ ref, items, error }) => ({ ref, items, ...(error ? { error } : {}) }));
}

export function toPruneResult({ deleted, untagged, skipped, spaceReclaimed }: RouterOutputs["images"]["prune"]): PruneResult {
  return { deleted, untagged, skipped, spaceReclaimed };
}

export function toDiskUsage({ images, rows = [] }: RouterOutputs["system"]["df"]): DiskUsage {
  const { total, active, size, reclaimable } = images;
  return {
    summary: [{ type: "Images", totalCount: total, active, size, reclaimable }],
    images: rows.map(toDiskUsageImageRow),
  };
}

/**
 * Digests are typed as `Digest` but cross the wire as their JSON form, `sha256:<hex>`:
 * `toString()` gives that string either way.
 */
export function toAuditEvent(e: ServerAuditEvent): AuditEvent {
  return {
    id: String(e.id),
    at: e.at,
    actorName: e.actorName,
    action: e.action,
    result: e.result,
    error: e.error,
    interface: e.interface,
    ip: e.ip,
    userAgent: e.userAgent,
    targets: e.targets.map((t) => ({
      ref: t.ref,
      digestBefore: t.digestBefore?.toString() ?? null,
      digestAfter: t.digestAfter?.toString() ?? null,
    })),
    details: e.details,
    hash: e.hash,
  };
}

export function toPullJob(job: RouterOutputs["jobs"]["get"]): PullJob {
  const { lines, layers } = job.progress;
  return {
    id: job.id,
    state: job.state,
    lines,
    layers: layers.map(({ id, status, current, total }) => ({ id, status, current, total })),
    error: job.error,
    result: job.result,
  };
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** The chain of `cause`s of an error, outermost first. */
function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = err; e && chain.length < 8; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

/** `"refused"` when the server is not there, `"failed"` for other transport failures. */
function transportFailure(err: unknown): { kind: "refused" | "failed"; detail: string } | undefined {
  const chain = causes(err);
  if (chain.some((e) => NETWORK_CODES.has(String((e as { code?: unknown }).code)))) return { kind: "refused", detail: "" };
  if (chain.some((e) => e instanceof Error && e.message === "fetch failed")) {
    const last = chain.at(-1);
    return { kind: "failed", detail: last instanceof Error ? last.message : "fetch failed" };
  }
  return undefined;
}

function unreachable(url: string): PlainError {
  return new PlainError(`Cannot connect to the Berth server at ${url}. Is the server running?`);
}

type ErrorData = TRPCClientError<AppRouter>["data"];

/** The first message of a failed input validation (the server's `zodError`). */
function zodMessage(data: ErrorData): string | undefined {
  const z = data?.zodError;
  if (!z) return undefined;
  if (z.formErrors[0]) return z.formErrors[0];
  // The error shape is the router's, not one procedure's: field names are not known here.
  const fieldErrors: Record<string, string[] | undefined> = z.fieldErrors;
  for (const [field, messages] of Object.entries(fieldErrors)) {
    if (messages?.[0]) return `${field}: ${messages[0]}`;
  }
  return undefined;
}

/** Turns whatever a request threw into the CLI's error catalogue. */
export function toCliError(err: unknown, url: string, hasToken: boolean): Error {
  if (err instanceof DaemonError || err instanceof PlainError || err instanceof LocalError) return err;
  const transport = transportFailure(err);
  if (transport?.kind === "refused") return unreachable(url);
  if (transport) return new LocalError(`cannot reach ${url}: ${transport.detail}`);
  if (err instanceof TRPCClientError) {
    // `data` is absent when the answer was not a tRPC error (e.g. not a Berth server).
    const data = (err as TRPCClientError<AppRouter>).data;
    const code = data?.code;
    if (code === "UNAUTHORIZED" && !hasToken) {
      return new DaemonError(`${err.message} (run 'berth login' or set BERTH_TOKEN)`, code);
    }
    const message = zodMessage(data) ?? err.message;
    if (!code && /Unexpected token|JSON|transform/i.test(message)) {
      return new DaemonError(`unexpected response from ${url} (is it a Berth server?)`);
    }
    return new DaemonError(message, code);
  }
  return err instanceof Error ? err : new Error(String(err));
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

export function headersFor(target: Target): Record<string, string> {
  const headers: Record<string, string> = { "x-berth-client": "cli", "user-agent": "berth-cli" };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  return headers;
}

/**
 * The message of the HTTP endpoints' JSON error body (`{ error }`), "" for other JSON, and
 * undefined when the body is not JSON (a proxy's page, another server).
 */
function jsonError(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (body as { error?: unknown } | null)?.error;
  return typeof error === "string" ? error : "";
}

async function httpError(res: Response): Promise<DaemonError> {
  const text = await res.text().catch(() => "");
  return new DaemonError(jsonError(text) || `${res.status} ${res.statusText || "error"}`.trim());
}

export function createApi(target: Target, fetchImpl: typeof fetch = fetch): BerthApi {
  const headers = headersFor(target);
  const trpc = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${target.url}/api/trpc`, transformer, headers, fetch: fetchImpl })],
  });
  const hasToken = Boolean(target.token);
  /** A streamed answer of a plain HTTP endpoint (errors before the first byte are thrown). */
  const download = (path: string, method = "GET") =>
    call(async () => {
      const res = await fetchImpl(`${target.url}${path}`, { method, headers });
      if (!res.ok) throw await httpError(res);
      if (!res.body) throw new DaemonError("empty response from server");
      return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    });
  /** A streamed upload to a plain HTTP endpoint answering JSON (import, commit); `null`: an empty body. */
  const upload = <T>(path: string, body: Readable | null) =>
    call(async () => {
      const res = await uploadStream(`${target.url}${path}`, { ...headers, "content-type": "application/x-tar" }, body);
      if (res.status >= 400) throw new DaemonError((jsonError(res.body) ?? res.body.trim()) || `${res.status} error`);
      return JSON.parse(res.body) as T;
    });
  /** `signInHint`: whether an UNAUTHORIZED answer should point at `berth login` (not for login itself). */
  const call = async <T>(fn: () => Promise<T>, signInHint = true): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toCliError(err, target.url, hasToken || !signInHint);
    }
  };

  return {
    url: target.url,
    hasToken,
    login: (input) =>
      call(async () => {
        const { token, id } = await trpc.auth.login.mutate(input);
        return { token, tokenId: id };
      }, false),
    revokeToken: (id) => call(async () => void (await trpc.tokens.revoke.mutate({ id }))),
    listImages: (input) => call(async () => (await trpc.images.list.query(input)).map(toImageRow)),
    inspectImages: (refs) => call(() => trpc.images.inspect.query({ refs })),
    history: (ref) => call(() => trpc.images.history.query({ ref, noTrunc: true })),
    tag: (source, targetRef) => call(async () => void (await trpc.images.tag.mutate({ source, target: targetRef }))),
    remove: (refs, force) => call(async () => toRemoveResults(await trpc.images.remove.mutate({ refs, force }))),
    prune: (input) => call(async () => toPruneResult(await trpc.images.prune.mutate(input))),
    diskUsage: (verbose) => call(async () => toDiskUsage(await trpc.system.df.query({ verbose }))),
    audit: (query) =>
      call(async () => {
        const { events, nextCursor } = await trpc.audit.list.query(query);
        return { events: events.map(toAuditEvent), nextCursor };
      }),
    auditExport: (filter, format) => download(`/api/audit/export?${auditParams({ ...filter, format })}`),
    auditArchive: (range) => download(`/api/audit/archive?${auditParams(range)}`, "POST"),
    auditVerify: () => call(() => trpc.audit.verify.query()),
    load: (body, source) =>
      call(async () => {
        const res = await uploadStream(
          `${target.url}/api/images/load?source=${encodeURIComponent(source)}`,
          {
            ...headers,
            "content-type": "application/x-tar",
          },
          body,
        );
        if (res.status >= 400) throw new DaemonError((jsonError(res.body) ?? res.body.trim()) || `${res.status} error`);
        return (JSON.parse(res.body) as LoadResult).lines;
      }),
    save: (refs) =>
      call(async () => {
        const query = refs.map((r) => `ref=${encodeURIComponent(r)}`).join("&");
        const res = await fetchImpl(`${target.url}/api/images/save?${query}`, { headers });
        if (!res.ok) throw await httpError(res);
        if (!res.body) throw new DaemonError("empty response from server");
        return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      }),
    importImage: (body, query) => upload(`/api/images/import?${query.toString()}`, body),
    commitImage: (body, query) => upload(`/api/images/commit?${query.toString()}`, body),
    buildImage: (context, query) =>
      call(async () => {
        const res = await uploadStream(
          `${target.url}/api/images/build?${query.toString()}`,
          { ...headers, "content-type": "application/x-tar" },
          context,
        );
        if (res.status >= 400) throw new DaemonError((jsonError(res.body) ?? res.body.trim()) || `${res.status} error`);
        return JSON.parse(res.body) as { id: string };
      }),
    pullImage: (input) => call(async () => ({ id: (await trpc.jobs.pull.mutate(input)).id })),
    pushImage: (input) => call(async () => ({ id: (await trpc.jobs.push.mutate(input)).id })),
    getJob: (id) => call(async () => toPullJob(await trpc.jobs.get.query({ id }))),
    cancelJob: (id) => call(async () => void (await trpc.jobs.cancel.mutate({ id }))),
    registries: registriesApi(trpc, call),
    protection: protectionApi(trpc, call),
    publicNamespaces: publicNamespacesApi(trpc, call),
    people: peopleApi(trpc, call),
    searchRemote: (input) => call(async () => (await trpc.search.remote.query(input)).rows),
  };
}

/**
 * Streams a request body with Node's http client: fetch's web-stream bodies move archives at
 * less than half the speed. Resolves with the status and the (small, JSON) answer.
 */
function uploadStream(url: string, headers: Record<string, string>, body: Readable | null): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const request = target.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const sent = body ? headers : { ...headers, "content-length": "0" };
    const req = request(target, { method: "POST", headers: sent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (!body) return void req.end();
    body.on("error", (err) => req.destroy(err));
    body.pipe(req);
  });
}

/** The query string of the audit endpoints: dates as RFC 3339, empty values left out. */
export function auditParams(values: Record<string, string | Date | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === "") continue;
    params.set(key, value instanceof Date ? value.toISOString() : value);
  }
  return params.toString();
}

/** Wraps stream failures during a download the same way as request failures. */
export function streamError(err: unknown, url: string): Error {
  return toCliError(err, url, true);
}
