import { InvalidArgumentError } from "../errors";
import { openSources, type Endpoint } from "../pull/endpoints";
import { CATALOG_SCOPE } from "./auth";
import type { RegistryClient } from "./client";
import { RegistryError, abortError } from "./errors";

/**
 * `docker search` against one registry: its `/v1/search` endpoint where it has one (Docker Hub's
 * response shape), else its `/v2/_catalog` filtered by the term, with the first matches' tags.
 */
export interface RegistrySearchResult {
  /** The repository as the registry names it (`fixtures/app`, `redis`). */
  name: string;
  description: string;
  starCount: number;
  isOfficial: boolean;
  isAutomated: boolean;
  /** Only from the catalog fallback, for the first matches. */
  tags?: string[];
}

export interface SearchRegistryOptions {
  /** 1..100; default 25 (docker's). */
  limit?: number;
  signal?: AbortSignal;
  /** Catalog pages read at most when falling back; default 20 (of 1000 names each). */
  maxCatalogPages?: number;
  /** Matches whose tags are listed in the fallback; default 10. */
  tagsForFirst?: number;
}

export const DEFAULT_SEARCH_LIMIT = 25;
export const MAX_SEARCH_LIMIT = 100;
/** Docker Hub answers searches on its index host, not on registry-1. */
export const DOCKER_HUB_SEARCH_URL = "https://index.docker.io";

const CATALOG_PAGE = 1000;
const MAX_TAGS_SHOWN = 50;
/** Answers that mean "this registry has no search endpoint". */
const NO_SEARCH_STATUSES = new Set([404, 405, 501]);

/** docker's limit check (moby registry/search.go); undefined or 0 is the default. */
export function checkSearchLimit(limit: number | undefined): number {
  if (limit === undefined || limit === 0) return DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new InvalidArgumentError(`limit ${limit} is outside the range of [1, ${MAX_SEARCH_LIMIT}]`);
  }
  return limit;
}

export async function searchRegistry(
  client: RegistryClient,
  term: string,
  opts: SearchRegistryOptions = {},
): Promise<RegistrySearchResult[]> {
  const limit = checkSearchLimit(opts.limit);
  let body: unknown;
  try {
    body = await client.getJson("/v1/search", {
      query: { q: term, n: String(limit) },
      scope: "registry:catalog:search",
      what: "the search endpoint",
      maxBytes: 4 * 1024 * 1024,
      signal: opts.signal,
    });
  } catch (err) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (!hasNoSearchEndpoint(err)) throw err;
    return searchCatalog(client, term, { ...opts, limit });
  }
  return parseSearchResponse(body, client.host).slice(0, limit);
}

function hasNoSearchEndpoint(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  return err.kind === "unsupported" || NO_SEARCH_STATUSES.has(err.details.status ?? 0);
}

/** Checks Docker Hub's `{num_results, query, results: [{name, description, star_count, is_official, is_automated}]}`. */
export function parseSearchResponse(body: unknown, host: string): RegistrySearchResult[] {
  const bad = (why: string) => new RegistryError("protocol", `registry ${host} sent an unexpected search response: ${why}`);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw bad("not a JSON object");
  const results = (body as { results?: unknown }).results;
  if (!Array.isArray(results)) throw bad('"results" is not a list');
  return results.map((item: unknown, i): RegistrySearchResult => {
    if (typeof item !== "object" || item === null) throw bad(`results[${i}] is not an object`);
    const r = item as Record<string, unknown>;
    if (typeof r.name !== "string" || r.name === "") throw bad(`results[${i}].name is not a non-empty string`);
    const optional = <T>(key: string, type: "string" | "number" | "boolean", fallback: T): T => {
      const v = r[key];
      if (v === undefined || v === null) return fallback;
      if (typeof v !== type) throw bad(`results[${i}].${key} is not a ${type}`);
      return v as T;
    };
    return {
      name: r.name,
      description: optional("description", "string", ""),
      starCount: optional("star_count", "number", 0),
      isOfficial: optional("is_official", "boolean", false),
      isAutomated: optional("is_automated", "boolean", false),
    };
  });
}

/** The catalog, read a bounded number of pages with `n`/`last`, filtered by a case-insensitive substring. */
async function searchCatalog(
  client: RegistryClient,
  term: string,
  opts: SearchRegistryOptions & { limit: number },
): Promise<RegistrySearchResult[]> {
  const needle = term.toLowerCase();
  const names: string[] = [];
  let last: string | undefined;
  try {
    for (let page = 0; page < (opts.maxCatalogPages ?? 20) && names.length < opts.limit; page++) {
      const body = await client.getJson("/v2/_catalog", {
        query: { n: String(CATALOG_PAGE), ...(last !== undefined ? { last } : {}) },
        scope: CATALOG_SCOPE,
        what: "the catalog",
        signal: opts.signal,
      });
      const list = (body as { repositories?: unknown } | null)?.repositories;
      if (!Array.isArray(list)) throw new RegistryError("protocol", `registry ${client.host} sent a catalog without "repositories"`);
      const repos = list.filter((r): r is string => typeof r === "string");
      for (const repo of repos) if (repo.toLowerCase().includes(needle) && names.length < opts.limit) names.push(repo);
      const end = repos.at(-1);
      // An empty page ends the catalog; a page that does not move on means `last` is ignored.
      if (end === undefined || end === last) break;
      last = end;
    }
  } catch (err) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (err instanceof RegistryError && err.kind === "not-found") {
      throw new RegistryError("unsupported", `registry ${client.host} has neither a search endpoint nor a catalog to search`, {
        status: err.details.status,
      });
    }
    throw err;
  }
  const results: RegistrySearchResult[] = names.map((name) => ({
    name,
    description: "",
    starCount: 0,
    isOfficial: false,
    isAutomated: false,
  }));
  for (const result of results.slice(0, opts.tagsForFirst ?? 10)) {
    try {
      result.tags = (await client.listTags(result.name, { signal: opts.signal })).slice(0, MAX_TAGS_SHOWN);
    } catch (err) {
      // Tags are a courtesy: a repository we may not list still is a search result.
      if (opts.signal?.aborted) throw abortError(opts.signal);
      if (!(err instanceof RegistryError)) throw err;
      result.tags = [];
    }
  }
  return results;
}

// --- the search term ----------------------------------------------------------------------

export interface SearchTerm {
  /** The registry to ask (`docker.io`, `127.0.0.1:5000`). */
  domain: string;
  /** What to ask it for, without the registry. */
  term: string;
}

const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
const HOST_RE = /^[a-zA-Z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/;

/**
 * docker's `splitReposSearchTerm`: `127.0.0.1:5000/app` searches that registry for `app`;
 * a first part without `.` or `:` (and not `localhost`) is Docker Hub's (`library/` dropped).
 */
export function parseSearchTerm(input: string): SearchTerm {
  const raw = input.trim();
  if (raw === "") throw new InvalidArgumentError("a search term is required");
  if (raw.includes("://")) throw new InvalidArgumentError(`invalid search term "${raw}": leave out the scheme (write host:port/name)`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new InvalidArgumentError("invalid search term: control characters are not allowed");
  if (raw.length > 255) throw new InvalidArgumentError("invalid search term: longer than 255 characters");
  const slash = raw.indexOf("/");
  const first = slash < 0 ? raw : raw.slice(0, slash);
  const isHost = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (!isHost) return { domain: "docker.io", term: raw.replace(/^library\//, "") };
  if (!HOST_RE.test(first)) throw new InvalidArgumentError(`invalid search term "${raw}": "${first}" is not a registry host[:port]`);
  const domain = HUB_ALIASES.has(first.toLowerCase()) ? "docker.io" : first;
  const term = raw.slice(slash + 1);
  return { domain, term: domain === "docker.io" ? term.replace(/^library\//, "") : term };
}

/** A client for the host that answers searches: Docker Hub's index, else the registry itself. */
export function openSearchClient(domain: string, origin: Endpoint, userAgent?: string): RegistryClient {
  const endpoint: Endpoint = domain === "docker.io" ? { ...origin, url: DOCKER_HUB_SEARCH_URL, host: undefined } : origin;
  return openSources([endpoint], userAgent)[0]!.client;
}

// --- docker's search filters ---------------------------------------------------------------

export interface SearchFilters {
  /** At least this many stars. */
  stars?: number;
  isOfficial?: boolean;
  isAutomated?: boolean;
}

const FILTER_KEYS = new Set(["stars", "is-official", "is-automated"]);

/** `--filter` values grouped by key, checked with docker's messages (`invalid filter 'x'`). */
export function parseSearchFilters(filters: Record<string, readonly string[]>): SearchFilters {
  const parsed: SearchFilters = {};
  for (const [key, values] of Object.entries(filters)) {
    if (!FILTER_KEYS.has(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
    if (values.length === 0) continue;
    if (key === "stars") {
      for (const value of values) {
        if (!/^[+-]?\d+$/.test(value.trim())) {
          throw new InvalidArgumentError(`invalid filter 'stars=${value}': strconv.Atoi: parsing "${value}": invalid syntax`);
        }
        // docker keeps the largest of several `stars=` values.
        parsed.stars = Math.max(parsed.stars ?? 0, Number(value));
      }
      continue;
    }
    if (values.length > 1 && new Set(values.map((v) => v.toLowerCase())).size > 1) {
      throw new InvalidArgumentError(`invalid filter '${key}=${values.join(",")}'`);
    }
    const value = values[0]!.toLowerCase();
    const bool = value === "true" || value === "1" ? true : value === "false" || value === "0" ? false : undefined;
    if (bool === undefined) throw new InvalidArgumentError(`invalid filter '${key}=${values.join(",")}'`);
    if (key === "is-official") parsed.isOfficial = bool;
    else parsed.isAutomated = bool;
  }
  return parsed;
}

export function filterSearchResults<T extends Omit<RegistrySearchResult, "name">>(results: readonly T[], filters: SearchFilters): T[] {
  return results.filter(
    (r) =>
      (filters.isOfficial === undefined || r.isOfficial === filters.isOfficial) &&
      (filters.isAutomated === undefined || r.isAutomated === filters.isAutomated) &&
      (filters.stars === undefined || r.starCount >= filters.stars),
  );
}
