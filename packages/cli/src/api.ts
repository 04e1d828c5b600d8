/**
 * Everything the CLI knows about the server: the tRPC client, the two plain HTTP endpoints
 * (archive upload and download), the adapters from the server's output shapes to the views
 * the commands print, and the mapping of failures to `DaemonError`/`PlainError`.
 * When a procedure's output changes, the fix belongs in the adapter below.
 */
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import type { AppRouter, RouterOutputs } from "@berth/api";
import { transformer } from "@berth/api/transformer";
import type { Target } from "./config";
import { DaemonError, LocalError, PlainError } from "./errors";

// ---------------------------------------------------------------------------------------------
// Views: what commands print
// ---------------------------------------------------------------------------------------------

export interface ImageRow {
  repository: string;
  tag: string;
  /** `sha256:<hex>`. */
  id: string;
  digest: string | null;
  created: Date | null;
  size: number;
  /** -1 when unknown (docker prints N/A). */
  sharedSize: number;
  uniqueSize: number;
  labels: Record<string, string>;
  containers: number;
}

export interface HistoryRow {
  /** `sha256:<hex>` or `<missing>`. */
  id: string;
  created: Date | null;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
}

export type RemoveItem = { untagged: string } | { deleted: string };

export interface RemoveResult {
  ref: string;
  items: RemoveItem[];
  error?: string;
}

export interface PruneResult {
  deleted: string[];
  untagged: string[];
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
  details: unknown;
  hash: string | null;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  repository?: string;
  from?: Date;
  to?: Date;
  /** Opaque: the previous page's `nextCursor`. */
  cursor?: string | number;
  limit: number;
}

export interface LoginResult {
  token: string;
  tokenId?: string;
}

/** The operations commands use; tests substitute a fake. */
export interface BerthApi {
  readonly url: string;
  readonly hasToken: boolean;
  login(input: { username: string; password: string; name: string }): Promise<LoginResult>;
  revokeToken(id: string): Promise<void>;
  listImages(input: { all: boolean; filters: Record<string, string[]>; reference?: string }): Promise<ImageRow[]>;
  inspectImages(refs: string[]): Promise<{ images: unknown[]; missing: string[] }>;
  history(ref: string): Promise<HistoryRow[]>;
  tag(source: string, target: string): Promise<void>;
  remove(refs: string[], force: boolean): Promise<RemoveResult[]>;
  prune(input: { all: boolean; filters: Record<string, string[]>; dryRun: boolean }): Promise<PruneResult>;
  diskUsage(verbose: boolean): Promise<DiskUsage>;
  audit(query: AuditQuery): Promise<{ events: AuditEvent[]; nextCursor: string | number | null }>;
  /** `POST /api/images/load`: streams `body` as the request body; returns docker's output lines. */
  load(body: Readable, source: string): Promise<string[]>;
  /** `GET /api/images/save`: the archive as a stream (errors before the first byte are thrown). */
  save(refs: string[]): Promise<Readable>;
}

// ---------------------------------------------------------------------------------------------
// Adapters: server output → views (the one place to fix a renamed field)
// ---------------------------------------------------------------------------------------------

type Loose = Record<string, unknown>;

/** Text of a scalar; objects (unexpected here) as JSON rather than `[object Object]`. */
function str(v: unknown, fallback = ""): string {
  if (typeof v === "string") return v;
  if (v == null) return fallback;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}
const obj = (v: unknown): Loose => (v && typeof v === "object" ? (v as Loose) : {});

/** Digests may arrive as strings or as serialized `Digest` values (`{ algorithm, hex }`). */
export function digestString(v: unknown): string {
  if (typeof v === "string") return v;
  const o = obj(v);
  if (typeof o.hex === "string") return `${typeof o.algorithm === "string" ? o.algorithm : "sha256"}:${o.hex}`;
  if (typeof o.value === "string") return o.value;
  return str(v);
}

const num = (v: unknown, fallback = 0): number =>
  typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : typeof v === "string" && v !== "" ? Number(v) : fallback;

const date = (v: unknown): Date | null =>
  v instanceof Date ? v : typeof v === "string" || typeof v === "number" ? new Date(v) : null;


type ListOutput = RouterOutputs["images"]["list"];

export function toImageRow(raw: ListOutput extends (infer R)[] ? R : unknown): ImageRow {
  const r = obj(raw);
  const labels = obj(r.labels);
  return {
    repository: str(r.repository, "<none>") || "<none>",
    tag: str(r.tag, "<none>") || "<none>",
    id: digestString(r.id),
    digest: r.digest == null || r.digest === "" || r.digest === "<none>" ? null : digestString(r.digest),
    created: date(r.created),
    size: num(r.size),
    sharedSize: num(r.sharedSize, -1),
    uniqueSize: num(r.uniqueSize, -1),
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, str(v)])),
    containers: num(r.containers, -1),
  };
}

export function toHistoryRow(raw: unknown): HistoryRow {
  const r = obj(raw);
  const id = r.id ?? r.image ?? r.imageId;
  return {
    id: id == null || id === "" ? "<missing>" : digestString(id),
    created: date(r.created),
    createdBy: str(r.createdBy ?? r.created_by),
    size: num(r.size),
    comment: str(r.comment),
    tags: Array.isArray(r.tags) ? r.tags.map((t) => str(t)) : [],
  };
}

/** An error that crossed the wire, or a plain message. */
function errorText(v: unknown): string {
  if (typeof v === "string") return v;
  const message = obj(v).message;
  return typeof message === "string" ? message : str(v);
}

/** `images.remove`: per ref, what was untagged/deleted (`records`, formerly `items`) and its error. */
export function toRemoveResults(raw: unknown): RemoveResult[] {
  const results = Array.isArray(obj(raw).results) ? (obj(raw).results as unknown[]) : [];
  return results.map((entry) => {
    const e = obj(entry);
    const list = e.records ?? e.items;
    const items = (Array.isArray(list) ? list : []).map((item): RemoveItem => {
      const i = obj(item);
      return "untagged" in i ? { untagged: str(i.untagged) } : { deleted: digestString(i.deleted) };
    });
    return { ref: str(e.ref), items, ...(e.error ? { error: errorText(e.error) } : {}) };
  });
}

export function toPruneResult(raw: unknown): PruneResult {
  const r = obj(raw);
  const list = (v: unknown) => (Array.isArray(v) ? v.map(digestString) : []);
  return { deleted: list(r.deleted), untagged: list(r.untagged), spaceReclaimed: num(r.spaceReclaimed ?? r.freed) };
}

/**
 * `system.df`: `{ images: { total, active, size, reclaimable }, rows?: ImageRow[] }`
 * (rows with `verbose`).
 */
export function toDiskUsage(raw: unknown): DiskUsage {
  const r = obj(raw);
  const images = obj(r.images);
  const rows = Array.isArray(r.rows) ? r.rows : [];
  return {
    summary: [
      {
        type: "Images",
        totalCount: num(images.total ?? images.totalCount),
        active: num(images.active),
        size: num(images.size),
        reclaimable: num(images.reclaimable),
      },
    ],
    images: rows.map((row) => toImageRow(row as never)),
  };
}

export function toAuditEvent(raw: unknown): AuditEvent {
  const e = obj(raw);
  const targets = (Array.isArray(e.targets) ? e.targets : []).map((t): AuditTarget => {
    const o = obj(t);
    return { ref: str(o.ref), digestBefore: (o.digestBefore as string | null) ?? null, digestAfter: (o.digestAfter as string | null) ?? null };
  });
  return {
    id: str(e.id),
    at: date(e.at) ?? new Date(0),
    actorName: str(e.actorName ?? e.actor),
    action: str(e.action),
    result: str(e.result),
    error: e.error == null ? null : str(e.error),
    interface: str(e.interface),
    ip: e.ip == null ? null : str(e.ip),
    userAgent: e.userAgent == null ? null : str(e.userAgent),
    targets,
    details: e.details ?? {},
    hash: e.hash == null ? null : str(e.hash),
  };
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "EHOSTUNREACH", "ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_SOCKET"]);

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

function zodMessage(data: unknown): string | undefined {
  const z = obj(obj(data).zodError);
  const form = Array.isArray(z.formErrors) ? (z.formErrors as string[]) : [];
  if (form[0]) return form[0];
  for (const [field, messages] of Object.entries(obj(z.fieldErrors))) {
    if (Array.isArray(messages) && messages[0]) return `${field}: ${String(messages[0])}`;
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
    const data = obj((err as TRPCClientError<AppRouter>).data);
    const code = typeof data.code === "string" ? data.code : undefined;
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

async function httpError(res: Response): Promise<DaemonError> {
  const text = await res.text().catch(() => "");
  let message = "";
  try {
    message = str(obj(JSON.parse(text)).error);
  } catch {
    message = "";
  }
  return new DaemonError(message || `${res.status} ${res.statusText || "error"}`.trim());
}

export function createApi(target: Target, fetchImpl: typeof fetch = fetch): BerthApi {
  const headers = headersFor(target);
  const trpc = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${target.url}/api/trpc`, transformer, headers, fetch: fetchImpl })],
  });
  const hasToken = Boolean(target.token);
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
        const r = obj(await trpc.auth.login.mutate(input));
        return { token: str(r.token), tokenId: typeof r.id === "string" ? r.id : undefined };
      }, false),
    revokeToken: (id) => call(async () => void (await trpc.tokens.revoke.mutate({ id }))),
    listImages: (input) => call(async () => (await trpc.images.list.query(input)).map(toImageRow)),
    inspectImages: (refs) =>
      call(async () => {
        const r = obj(await trpc.images.inspect.query({ refs }));
        return {
          images: Array.isArray(r.images) ? (r.images as unknown[]) : [],
          missing: Array.isArray(r.missing) ? r.missing.map((m) => str(m)) : [],
        };
      }),
    history: (ref) =>
      call(async () => {
        const r: unknown = await trpc.images.history.query({ ref, noTrunc: true });
        const rows = Array.isArray(r) ? r : (obj(r).history ?? obj(r).rows);
        return (Array.isArray(rows) ? rows : []).map(toHistoryRow);
      }),
    tag: (source, targetRef) => call(async () => void (await trpc.images.tag.mutate({ source, target: targetRef }))),
    remove: (refs, force) => call(async () => toRemoveResults(await trpc.images.remove.mutate({ refs, force }))),
    prune: (input) => call(async () => toPruneResult(await trpc.images.prune.mutate(input))),
    diskUsage: (verbose) => call(async () => toDiskUsage(await trpc.system.df.query({ verbose }))),
    audit: (query) =>
      call(async () => {
        // The cursor is opaque to the CLI: whatever `nextCursor` was is sent back as `cursor`
        // (the router and the store currently disagree on string vs number).
        const r = obj(await trpc.audit.list.query(query as Parameters<typeof trpc.audit.list.query>[0]));
        const next = r.nextCursor;
        return {
          events: (Array.isArray(r.events) ? r.events : []).map(toAuditEvent),
          nextCursor: typeof next === "string" || typeof next === "number" ? next : typeof next === "bigint" ? Number(next) : null,
        };
      }),
    load: (body, source) =>
      call(async () => {
        const res = await uploadStream(`${target.url}/api/images/load?source=${encodeURIComponent(source)}`, {
          ...headers,
          "content-type": "application/x-tar",
        }, body);
        if (res.status >= 400) throw new DaemonError(jsonErrorText(res.body) || `${res.status} error`);
        const r = obj(JSON.parse(res.body));
        return Array.isArray(r.lines) ? r.lines.map((l) => str(l)) : [];
      }),
    save: (refs) =>
      call(async () => {
        const query = refs.map((r) => `ref=${encodeURIComponent(r)}`).join("&");
        const res = await fetchImpl(`${target.url}/api/images/save?${query}`, { headers });
        if (!res.ok) throw await httpError(res);
        if (!res.body) throw new DaemonError("empty response from server");
        return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      }),
  };
}

/**
 * Streams a request body with Node's http client: fetch's web-stream bodies move archives at
 * less than half the speed. Resolves with the status and the (small, JSON) answer.
 */
function uploadStream(url: string, headers: Record<string, string>, body: Readable): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const request = target.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    body.on("error", (err) => req.destroy(err));
    body.pipe(req);
  });
}

function jsonErrorText(text: string): string {
  try {
    return str(obj(JSON.parse(text)).error);
  } catch {
    return text.trim();
  }
}

/** Wraps stream failures during a download the same way as request failures. */
export function streamError(err: unknown, url: string): Error {
  return toCliError(err, url, true);
}
