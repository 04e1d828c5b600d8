import { EngineError, InvalidArgumentError } from "../errors";
import type { Credentials } from "../registry/auth";
import { RegistryClient } from "../registry/client";
import { abortError } from "../registry/errors";

/**
 * Where a pull may fetch from: mirrors in order, then the origin. The repository path is
 * the same on every endpoint (a Docker Hub mirror serves `/v2/library/redis/...`).
 */
export interface Endpoint {
  /** `https://mirror.example.com[:port]` or `http://…` (plain HTTP implies insecure); no path. */
  url?: string;
  /** `host[:port]`; HTTPS unless insecure. Give either url or host. */
  host?: string;
  /** Plain HTTP allowed and TLS not verified (docker's insecure-registries). */
  insecure?: boolean;
  credentials?: Credentials;
  /** PEM bundle of the CAs to trust. */
  ca?: string;
  /** Connect/headers deadline and body idle timeout per request; the client's default when absent. */
  timeoutMs?: number;
  /** Retries per request on network errors, 5xx and 429; the client's default when absent. */
  retries?: number;
}

/** One request to one endpoint, for mirror health and statistics. */
export interface EndpointResult {
  ok: boolean;
  error?: Error;
  latencyMs: number;
  /** Bytes received (manifest body or blob bytes, including those of a failed attempt). */
  bytes: number;
  /** What was asked for. */
  kind: "manifest" | "blob";
}

/** An endpoint with its client, created once per pull. */
export interface Source {
  endpoint: Endpoint;
  /** `host[:port]`, for messages. */
  name: string;
  client: RegistryClient;
}

export function openSources(endpoints: readonly Endpoint[], userAgent?: string): Source[] {
  if (endpoints.length === 0) throw new InvalidArgumentError("pull: no registry endpoint given");
  const sources: Source[] = [];
  try {
    for (const endpoint of endpoints) {
      const { host, insecure } = hostOf(endpoint);
      const client = new RegistryClient({
        host,
        insecure,
        ca: endpoint.ca,
        credentials: endpoint.credentials,
        timeoutMs: endpoint.timeoutMs,
        retries: endpoint.retries,
        userAgent,
      });
      sources.push({ endpoint, name: host, client });
    }
  } catch (err) {
    for (const s of sources) s.client.close();
    throw err;
  }
  return sources;
}

function hostOf(endpoint: Endpoint): { host: string; insecure: boolean } {
  if (endpoint.url !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint.url);
    } catch {
      throw new InvalidArgumentError(`invalid registry endpoint URL "${endpoint.url}"`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new InvalidArgumentError(`invalid registry endpoint URL "${endpoint.url}": expected http:// or https://`);
    }
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) {
      throw new InvalidArgumentError(
        `invalid registry endpoint URL "${endpoint.url}": path, query, credentials or fragment are not allowed`,
      );
    }
    return { host: url.host, insecure: endpoint.insecure ?? url.protocol === "http:" };
  }
  if (endpoint.host === undefined) throw new InvalidArgumentError("registry endpoint needs a url or a host");
  return { host: endpoint.host, insecure: endpoint.insecure ?? false };
}

/**
 * Runs `attempt` against each source in turn until one succeeds; every attempt is reported.
 * An abort stops at once; when all fail, a single endpoint's error is rethrown as it is,
 * several are summed up in one error carrying the last one's code (the origin's, usually).
 */
export async function firstThatServes<T>(
  sources: readonly Source[],
  what: string,
  kind: EndpointResult["kind"],
  attempt: (source: Source, count: (bytes: number) => void) => Promise<T>,
  opts: { signal: AbortSignal; report?: (endpoint: Endpoint, result: EndpointResult) => void },
): Promise<{ value: T; source: Source }> {
  const failures: { source: Source; error: Error }[] = [];
  for (const source of sources) {
    if (opts.signal.aborted) throw abortError(opts.signal);
    const started = performance.now();
    let bytes = 0;
    try {
      const value = await attempt(source, (n) => (bytes = n));
      opts.report?.(source.endpoint, {
        ok: true,
        latencyMs: performance.now() - started,
        bytes,
        kind,
      });
      return { value, source };
    } catch (err) {
      if (opts.signal.aborted) throw abortError(opts.signal);
      const error = err instanceof Error ? err : new Error(String(err));
      opts.report?.(source.endpoint, {
        ok: false,
        error,
        latencyMs: performance.now() - started,
        bytes,
        kind,
      });
      if (isFinal(error)) throw error;
      failures.push({ source, error });
    }
  }
  const last = failures.at(-1)!.error;
  if (failures.length === 1) throw last;
  const summary = failures.map((f) => `${f.source.name}: ${f.error.message}`).join("; ");
  const error = new EngineError(
    last instanceof EngineError ? last.code : "UPSTREAM_UNAVAILABLE",
    `${what}: no endpoint could serve it (${summary})`,
  );
  Object.defineProperty(error, "cause", { value: last });
  throw error;
}

/** Errors about the content itself rather than the endpoint: trying another one cannot help. */
export class ContentError extends EngineError {}

function isFinal(err: Error): boolean {
  return err instanceof ContentError;
}
