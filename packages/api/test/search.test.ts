import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { freePort, startRegistry, startTokenServer, startUpstream, type Upstream } from "../../engine/test/registry-helpers";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient } from "./client";

const fx = fixtures();

let upstream: Upstream;
let server: TestServer;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  [upstream, server] = await Promise.all([startUpstream(), bootTestServer()]);
  api = apiClient(server.url, await server.token());
});
afterAll(async () => {
  await server?.close();
  upstream?.stop();
});

async function pulled(ref: string) {
  const { id } = await api.jobs.pull.mutate({ ref });
  for (let i = 0; i < 200; i++) {
    const job = await api.jobs.get.query({ id });
    if (job.state === "succeeded") return;
    if (job.state !== "queued" && job.state !== "running") throw new Error(`pull ${ref} ${job.state}: ${job.error}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pull ${ref} did not finish in 20 s`);
}

describe("search.remote against a real registry (catalog, no /v1/search)", () => {
  it("searches the registry the term names and says what is already in the store", async () => {
    const before = await api.search.remote.query({ term: `${upstream.host}/app` });
    expect(before.registry).toBe(upstream.host);
    expect(before.term).toBe("app");
    expect(before.rows).toEqual([
      expect.objectContaining({
        name: "fixtures/app",
        ref: `${upstream.host}/fixtures/app`,
        starCount: 0,
        isOfficial: false,
        inStore: false,
        tags: expect.arrayContaining(["1.0", "2.0"]) as unknown,
      }),
    ]);

    await pulled(`${upstream.host}/fixtures/app:1.0`);
    const after = await api.search.remote.query({ term: `${upstream.host}/fixtures` });
    const byName = Object.fromEntries(after.rows.map((r) => [r.name, r]));
    expect(byName["fixtures/app"]?.inStore).toBe(true);
    expect(byName["fixtures/base"]?.inStore).toBe(false);
  });

  it("searches the chosen registry when the term names none, bounded by the limit", async () => {
    const { rows, registry } = await api.search.remote.query({ term: "fixtures", registry: upstream.host, limit: 2 });
    expect(registry).toBe(upstream.host);
    expect(rows).toHaveLength(2);
    // A registry named in the term wins over the chosen default, as in docker.
    const named = await api.search.remote.query({ term: `${upstream.host}/base`, registry: "docker.io" });
    expect(named.registry).toBe(upstream.host);
    expect(named.rows.map((r) => r.name)).toEqual(["fixtures/base"]);
  });

  it("applies docker's filters on the server", async () => {
    const official = await api.search.remote.query({ term: `${upstream.host}/fixtures`, filters: { "is-official": ["true"] } });
    expect(official.rows).toEqual([]);
    const unofficial = await api.search.remote.query({
      term: `${upstream.host}/fixtures`,
      filters: { "is-official": ["false"], stars: ["0"] },
    });
    expect(unofficial.rows.length).toBeGreaterThan(1);
  });

  it("rejects a bad limit, filter, term or registry with docker's messages", async () => {
    const bad = (input: Parameters<typeof api.search.remote.query>[0], message: string) =>
      expect(api.search.remote.query(input)).rejects.toMatchObject({ message, data: { code: "BAD_REQUEST" } });
    await bad({ term: `${upstream.host}/app`, limit: 101 }, "limit 101 is outside the range of [1, 100]");
    await bad({ term: `${upstream.host}/app`, filters: { colour: ["red"] } }, "invalid filter 'colour'");
    await bad({ term: `${upstream.host}/app`, filters: { "is-official": ["maybe"] } }, "invalid filter 'is-official=maybe'");
    await bad({ term: " " }, "a search term is required");
    await bad(
      { term: "http://127.0.0.1:5000/app" },
      `invalid search term "http://127.0.0.1:5000/app": leave out the scheme (write host:port/name)`,
    );
    await bad(
      { term: "app", registry: "not a host" },
      `invalid registry "not a host": expected a host[:port] such as docker.io or 127.0.0.1:5000`,
    );
  });

  it("says when the registry cannot be reached", async () => {
    const host = `127.0.0.1:${await freePort()}`;
    await expect(api.search.remote.query({ term: `${host}/app` })).rejects.toMatchObject({
      message: expect.stringContaining(host) as unknown,
      data: { code: "BAD_GATEWAY" },
    });
  });

  it("says when the registry wants credentials the team has not given", async () => {
    const tokens = await startTokenServer("alice", "s3cret");
    const reg = await startRegistry(upstream.storage, tokens.authYaml);
    try {
      await expect(api.search.remote.query({ term: `${reg.host}/app` })).rejects.toMatchObject({
        message: `unauthorized: authentication required for the catalog on ${reg.host} (no credentials given)`,
        data: { code: "FORBIDDEN" },
      });
    } finally {
      await reg.stop();
      await tokens.close();
    }
  });

  it("is a query: nothing is audited", async () => {
    const { events } = await api.audit.list.query({ limit: 50 });
    expect(events.filter((e) => e.action.startsWith("search"))).toEqual([]);
  });
});

describe("search.local over repositories, tags and labels", () => {
  it("matches repositories, tags and label values, with the image and its size", async () => {
    // fixtures/app:1.0 was pulled above.
    const app = fx.image("fixtures/app:1.0");
    const byRepo = await api.search.local.query({ term: "FIXTURES/APP" });
    expect(byRepo.rows).toEqual([
      {
        repository: `${upstream.host}/fixtures/app`,
        tag: "1.0",
        imageId: app.configDigest,
        size: expect.any(Number) as unknown,
        matchedOn: "repository",
        label: null,
      },
    ]);
    expect(byRepo.rows[0]!.size).toBeGreaterThan(0);

    const byTag = await api.search.local.query({ term: "1.0" });
    expect(byTag.rows.map((r) => [r.tag, r.matchedOn])).toEqual([["1.0", "tag"]]);

    const byLabel = await api.search.local.query({ term: "fixtures-app" });
    expect(byLabel.rows).toEqual([
      expect.objectContaining({ tag: "1.0", matchedOn: "label", label: { key: "org.opencontainers.image.title", value: "fixtures-app" } }),
    ]);

    expect((await api.search.local.query({ term: "nothing-like-this" })).rows).toEqual([]);
    await expect(api.search.local.query({ term: "" })).rejects.toMatchObject({ message: "a search term is required" });
  });
});
