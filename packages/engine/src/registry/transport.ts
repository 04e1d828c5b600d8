import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";

import { RegistryError, RegistryTimeoutError, abortError } from "./errors";

/**
 * HTTP for the registry client: node:http/https (not global fetch, which cannot take a
 * custom CA without the undici package), keep-alive agents, a deadline for the response
 * headers, an idle timeout on the body, redirects, and bounded retries with back-off.
 */
export interface TransportOptions {
  /** Skip TLS verification and allow plain HTTP (docker's insecure-registries). */
  insecure?: boolean;
  /** PEM bundle trusted in addition to nothing else: replaces the system roots, as Node's `ca` does. */
  ca?: string;
  userAgent?: string;
  /** Deadline for connect + response headers, and the longest silence while a body streams. */
  timeoutMs?: number;
  /** Retries of idempotent requests after network errors, 5xx and 429. */
  retries?: number;
  /** First back-off delay; doubles per retry (with jitter), capped at 10 s. */
  retryDelayMs?: number;
}

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * A request body of known length, opened afresh for every attempt (a retry or a redirect
 * sends it again), so a layer streams from the store rather than sitting in memory.
 */
export interface RequestBody {
  length: number;
  open(): Buffer | Readable | Promise<Buffer | Readable>;
  /** The same bytes as a range of a local file, so the request can be sent from the transfer thread. */
  file?: { path: string; start: number };
  /** Bytes of this body sent so far, when it is sent from the transfer thread (open() counts its own). */
  onSent?: (bytes: number) => void;
}

export interface TransportRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Retries for this request; default the transport's. Uploads that move a server-side offset use 0. */
  retries?: number;
  /** Sent to the original origin only: dropped when a redirect leaves it. */
  authorization?: string;
  signal?: AbortSignal;
  /** Names the request in error messages (`fixtures/app:1.0 on host`). */
  what: string;
}

export interface TransportResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be consumed or destroyed by the caller. */
  body: Readable;
  /** Where the response finally came from (after redirects). */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const MAX_RETRY_DELAY_MS = 10_000;

export class Transport {
  readonly timeoutMs: number;
  readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: TransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      ca: options.ca,
      rejectUnauthorized: !options.insecure,
    });
  }

  /** Sends with retries; a final 5xx/429 is returned (its body names the error), network errors throw. */
  async send(req: TransportRequest): Promise<TransportResponse> {
    const retries = req.retries ?? this.retries;
    for (let attempt = 0; ; attempt++) {
      let res: TransportResponse;
      try {
        res = await this.follow(req);
      } catch (err) {
        if (req.signal?.aborted || !isRetryableError(err) || attempt >= retries) throw wrapNetworkError(err, req);
        await this.backoff(attempt, undefined, req.signal);
        continue;
      }
      if ((res.status >= 500 || res.status === 429) && attempt < retries) {
        res.body.resume();
        await this.backoff(attempt, res.headers["retry-after"], req.signal);
        continue;
      }
      return res;
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async backoff(attempt: number, retryAfter: string | undefined, signal?: AbortSignal): Promise<void> {
    const exp = Math.min(this.retryDelayMs * 2 ** attempt, MAX_RETRY_DELAY_MS);
    const hinted = retryAfter && /^\d+$/.test(retryAfter) ? Math.min(Number(retryAfter) * 1000, MAX_RETRY_DELAY_MS) : 0;
    const delay = Math.max(hinted, exp / 2 + Math.random() * (exp / 2));
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      throw abortError(signal!);
    }
  }

  /** One attempt, following redirects; Authorization goes only to the original origin. */
  private async follow(req: TransportRequest): Promise<TransportResponse> {
    let url = req.url;
    let authorization = req.authorization;
    for (let hop = 0; ; hop++) {
      const res = await this.once(req, url, authorization);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || !location) return res;
      res.body.resume();
      if (hop >= MAX_REDIRECTS) throw new RegistryError("protocol", `too many redirects for ${req.what}`);
      const next = new URL(location, url);
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        throw new RegistryError("protocol", `refusing redirect to a ${next.protocol} URL for ${req.what}`);
      }
      if (next.protocol === "http:" && url.protocol === "https:" && !this.options.insecure) {
        throw new RegistryError("protocol", `refusing redirect from HTTPS to plain HTTP for ${req.what}`);
      }
      if (next.origin !== req.url.origin) authorization = undefined;
      url = next;
    }
  }

  private async once(req: TransportRequest, url: URL, authorization: string | undefined): Promise<TransportResponse> {
    const { signal } = req;
    if (signal?.aborted) throw abortError(signal);
    const isHttps = url.protocol === "https:";
    const headers: Record<string, string> = { ...req.headers };
    if (this.options.userAgent) headers["user-agent"] = this.options.userAgent;
    if (authorization) headers.authorization = authorization;
    if (req.body) headers["content-length"] = String(req.body.length);
    else if (req.method !== "GET" && req.method !== "HEAD") headers["content-length"] = "0";
    const body = req.body ? await req.body.open() : undefined;
    if (signal?.aborted) {
      if (body && !Buffer.isBuffer(body)) body.destroy();
      throw abortError(signal);
    }

    return new Promise<TransportResponse>((resolve, reject) => {
      const request = (isHttps ? https : http).request(url, {
        method: req.method,
        headers,
        agent: isHttps ? this.httpsAgent : this.httpAgent,
      });
      let response: IncomingMessage | undefined;
      const onAbort = () => {
        const err = abortError(signal!);
        if (response) response.destroy(err);
        request.destroy(err);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      let headersTimer: NodeJS.Timeout | undefined;
      const startHeadersTimer = () => {
        if (response) return; // a server may answer (an error) before the body is all sent
        headersTimer = setTimeout(() => request.destroy(new RegistryTimeoutError(req.what, this.timeoutMs, "headers")), this.timeoutMs);
      };
      if (body && !Buffer.isBuffer(body)) {
        // While a body streams out the deadline is for silence on the socket; the wait for the answer starts once it is sent.
        request.setTimeout(this.timeoutMs, () => request.destroy(new RegistryTimeoutError(req.what, this.timeoutMs, "body")));
        request.once("finish", () => {
          if (response) return;
          request.setTimeout(0);
          startHeadersTimer();
        });
        body.once("error", (err) => request.destroy(err));
        request.once("close", () => body.destroy());
        body.pipe(request);
      } else {
        startHeadersTimer();
        request.end(body);
      }
      request.once("error", (err) => {
        clearTimeout(headersTimer);
        signal?.removeEventListener("abort", onAbort);
        reject(err);
      });
      request.once("response", (res) => {
        clearTimeout(headersTimer);
        response = res;
        // Idle body timeout: socket inactivity while the body streams.
        const socket = res.socket;
        const onIdle = () => res.destroy(new RegistryTimeoutError(req.what, this.timeoutMs, "body"));
        socket.setTimeout(this.timeoutMs);
        socket.on("timeout", onIdle);
        res.once("close", () => {
          socket.off("timeout", onIdle);
          socket.setTimeout(0);
          signal?.removeEventListener("abort", onAbort);
        });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
    });
  }
}

/** Reads a whole (small) body; more than `max` bytes rejects with `onTooLarge()`. */
export async function readCapped(body: Readable, max: number, onTooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    total += buf.byteLength;
    if (total > max) {
      body.destroy();
      throw onTooLarge();
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}

/** Reads at most `max` bytes of an error body, ignoring the rest and any stream error. */
export async function readErrorBody(body: Readable, max = 64 * 1024): Promise<Buffer | undefined> {
  try {
    return await readCapped(body, max, () => new Error("too large"));
  } catch {
    return undefined;
  }
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
]);

export function isRetryableError(err: unknown): boolean {
  if (err instanceof RegistryTimeoutError) return true;
  if (err instanceof RegistryError) return false;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && RETRYABLE_CODES.has(code);
}

function wrapNetworkError(err: unknown, req: TransportRequest): unknown {
  if (req.signal?.aborted || err instanceof RegistryError || !(err instanceof Error)) return err;
  const wrapped = new RegistryError("unavailable", `cannot reach registry for ${req.what}: ${err.message}`);
  Object.defineProperty(wrapped, "cause", { value: err });
  return wrapped;
}
