import http from "node:http";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { RegistryClient } from "../src/registry/client";
import {
  checkSearchLimit,
  filterSearchResults,
  openSearchClient,
  parseSearchFilters,
  parseSearchTerm,
  searchRegistry,
} from "../src/registry/search";
import { freePort, startProxy, startRegistry, startTokenServer, startUpstream, type Proxy, type Upstream } from "./registry-helpers";

let up: Upstream;
const clients: RegistryClient[] = [];
const proxies: Proxy[] = [];

beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const p of proxies) await p.close();
  up?.stop();
});

function client(host = up.host, extra: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}): RegistryClient {
  const c = new RegistryClient({ host, insecure: true, retryDelayMs: 10, ...extra });
  clients.push(c);
  return c;
}

/** GET of the real registry's catalog, as the search proxy's source of truth. */
function realCatalog(): Promise<string[]> {
  return new Promise((ok, fail) => {
    http
      .get(`http://${up.host}/v2/_catalog?n=1000`, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => ok((JSON.parse(text) as { repositories: string[] }).repositories));
      })
      .on("error", fail);
  });
}

/**
 * A registry with Docker Hub's `/v1/search`: a loopback proxy in front of the real registry that
 * answers searches from the registry's own catalog (stars = name length, `fixtures/base` official).
 */
async function searchingProxy(answer?: (q: string, n: number) => unknown): Promise<Proxy> {
  const p = await startProxy(up.host, {
    intercept(req, res) {
      const url = new URL(req.url ?? "", "http://x");
      if (url.pathname !== "/v1/search") return false;
      const q = url.searchParams.get("q") ?? "";
      const n = Number(url.searchParams.get("n") ?? "25");
      void (async () => {
        const body =
          answer?.(q, n) ??
          (await realCatalog().then((repos) => {
            const results = repos
              .filter((r) => r.includes(q))
              .slice(0, n)
              .map((name) => ({
                name,
                description: `The ${name} image, built offline for Berth's tests`,
                star_count: name.length,
                is_official: name === "fixtures/base",
                is_automated: false,
              }));
            return { num_results: results.length, query: q, results };
          }));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      })();
      return true;
    },
  });
  proxies.push(p);
  return p;
}

describe("searchRegistry: catalog fallback on the CNCF registry (no /v1/search)", () => {
  it("finds repositories by case-insensitive substring, with their tags", async () => {
    const results = await searchRegistry(client(), "APP");
    expect(results.map((r) => r.name)).toEqual(["fixtures/app"]);
    expect(results[0]).toMatchObject({ description: "", starCount: 0, isOfficial: false, isAutomated: false });
    expect(results[0]!.tags).toEqual(expect.arrayContaining(["1.0", "2.0"]));
  });

  it("answers every repository of the fixtures for a common term, bounded by --limit", async () => {
    const all = await searchRegistry(client(), "fixtures/");
    const repos = [...new Set(up.images.map((i) => i.repo))].sort();
    expect(all.map((r) => r.name).sort()).toEqual(repos);
    const one = await searchRegistry(client(), "fixtures/", { limit: 1 });
    expect(one).toHaveLength(1);
  });

  it("reads the catalog page by page (n/last) when it is longer than a page", async () => {
    const p = await startProxy(up.host, {});
    proxies.push(p);
    // The page size asked for is 1000; the registry's own answer decides how many pages there are.
    const results = await searchRegistry(client(p.host), "fixtures");
    expect(results.length).toBeGreaterThan(0);
    const catalogCalls = p.requests.filter((r) => r.url.startsWith("/v2/_catalog"));
    expect(catalogCalls[0]?.url).toContain("n=1000");
    expect(catalogCalls.at(-1)?.url).toMatch(/last=/);
    expect(p.requests.some((r) => r.url.startsWith("/v1/search"))).toBe(true);
  });

  it("returns nothing for a term that matches no repository", async () => {
    expect(await searchRegistry(client(), "no-such-repository-anywhere")).toEqual([]);
  });

  it("needs credentials for a token-auth registry's catalog, and works with them", async () => {
    const tokens = await startTokenServer("alice", "s3cret");
    const reg = await startRegistry(up.storage, tokens.authYaml);
    try {
      await expect(searchRegistry(client(reg.host), "app")).rejects.toThrow(/unauthorized: authentication required for the catalog/);
      const ok = await searchRegistry(client(reg.host, { credentials: { username: "alice", password: "s3cret" } }), "app");
      expect(ok.map((r) => r.name)).toEqual(["fixtures/app"]);
      expect(ok[0]!.tags).toEqual(expect.arrayContaining(["1.0"]));
    } finally {
      await reg.stop();
      await tokens.close();
    }
  });

  it("says clearly when the registry cannot be reached", async () => {
    const port = await freePort();
    await expect(searchRegistry(client(`127.0.0.1:${port}`, { retries: 0 }), "app")).rejects.toThrow(/cannot reach registry|127\.0\.0\.1/);
  });
});

describe("searchRegistry: a registry with Docker Hub's /v1/search", () => {
  it("uses the search endpoint and maps Docker Hub's fields", async () => {
    const p = await searchingProxy();
    const results = await searchRegistry(client(p.host), "fixtures", { limit: 2 });
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.starCount).toBe(r.name.length);
      expect(r.description).toBe(`The ${r.name} image, built offline for Berth's tests`);
      expect(r.tags).toBeUndefined();
    }
    const search = p.requests.find((r) => r.url.startsWith("/v1/search"));
    expect(new URL(search!.url, "http://x").searchParams.get("q")).toBe("fixtures");
    expect(new URL(search!.url, "http://x").searchParams.get("n")).toBe("2");
    expect(p.requests.some((r) => r.url.startsWith("/v2/_catalog"))).toBe(false);
  });

  it("filters by stars and is-official like docker", async () => {
    const p = await searchingProxy();
    const results = await searchRegistry(client(p.host), "fixtures");
    const official = filterSearchResults(results, parseSearchFilters({ "is-official": ["true"] }));
    expect(official.map((r) => r.name)).toEqual(["fixtures/base"]);
    const starry = filterSearchResults(results, parseSearchFilters({ stars: ["13"] }));
    expect(starry.every((r) => r.starCount >= 13)).toBe(true);
    expect(starry.map((r) => r.name)).toContain("fixtures/multi");
    expect(starry.map((r) => r.name)).not.toContain("fixtures/app");
  });

  it("rejects a search answer of the wrong shape, naming the field", async () => {
    const p = await searchingProxy(() => ({ num_results: 1, query: "x", results: [{ name: 42 }] }));
    await expect(searchRegistry(client(p.host), "x")).rejects.toThrow(
      `registry ${p.host} sent an unexpected search response: results[0].name is not a non-empty string`,
    );
    const q = await searchingProxy(() => ({ results: [{ name: "a", star_count: "many" }] }));
    await expect(searchRegistry(client(q.host), "x")).rejects.toThrow(/results\[0\]\.star_count is not a number/);
  });
});

describe("docker's search rules", () => {
  it("--limit is 1..100, 25 by default", () => {
    expect(checkSearchLimit(undefined)).toBe(25);
    expect(checkSearchLimit(0)).toBe(25);
    expect(checkSearchLimit(100)).toBe(100);
    expect(() => checkSearchLimit(101)).toThrow("limit 101 is outside the range of [1, 100]");
    expect(() => checkSearchLimit(-1)).toThrow("limit -1 is outside the range of [1, 100]");
  });

  it("splits the registry off the term like docker", () => {
    expect(parseSearchTerm("redis")).toEqual({ domain: "docker.io", term: "redis" });
    expect(parseSearchTerm("library/redis")).toEqual({ domain: "docker.io", term: "redis" });
    expect(parseSearchTerm("bitnami/redis")).toEqual({ domain: "docker.io", term: "bitnami/redis" });
    expect(parseSearchTerm("127.0.0.1:5000/app")).toEqual({ domain: "127.0.0.1:5000", term: "app" });
    expect(parseSearchTerm("localhost/team/app")).toEqual({ domain: "localhost", term: "team/app" });
    expect(parseSearchTerm("index.docker.io/library/nginx")).toEqual({ domain: "docker.io", term: "nginx" });
    expect(() => parseSearchTerm("  ")).toThrow("a search term is required");
    expect(() => parseSearchTerm("https://ghcr.io/x")).toThrow(/leave out the scheme/);
    expect(() => parseSearchTerm("bad_host.io:x/app")).toThrow(/"bad_host.io:x" is not a registry host\[:port\]/);
  });

  it("accepts docker's filters only, with docker's messages", () => {
    expect(parseSearchFilters({ stars: ["3", "10"], "is-official": ["true"], "is-automated": ["0"] })).toEqual({
      stars: 10,
      isOfficial: true,
      isAutomated: false,
    });
    expect(() => parseSearchFilters({ colour: ["red"] })).toThrow("invalid filter 'colour'");
    expect(() => parseSearchFilters({ "is-official": ["maybe"] })).toThrow("invalid filter 'is-official=maybe'");
    expect(() => parseSearchFilters({ stars: ["lots"] })).toThrow(
      `invalid filter 'stars=lots': strconv.Atoi: parsing "lots": invalid syntax`,
    );
  });

  it("asks Docker Hub's index host for docker.io searches, the registry itself otherwise", () => {
    const hub = openSearchClient("docker.io", { url: "https://registry-1.docker.io" });
    const own = openSearchClient("127.0.0.1:5000", { url: "http://127.0.0.1:5000", insecure: true });
    clients.push(hub, own);
    expect(hub.host).toBe("index.docker.io");
    expect(own.host).toBe("127.0.0.1:5000");
  });
});
