import type { ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import type http from "node:http";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { Digest } from "../src/digest";
import { DigestMismatchError, EngineError } from "../src/errors";
import { MediaType } from "../src/media-types";
import { RegistryClient } from "../src/registry/client";
import { type RegistryError } from "../src/registry/errors";
import { storeFiles, tempDir, tempStore } from "./helpers";
import {
  htpasswdLine,
  startProxy,
  startRegistry,
  startTokenServer,
  selfSignedCert,
  startUpstream,
  type Proxy,
  type Upstream,
} from "./registry-helpers";

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

async function proxy(hooks: Parameters<typeof startProxy>[1]): Promise<Proxy> {
  const p = await startProxy(up.host, hooks);
  proxies.push(p);
  return p;
}

const isBlob = (req: http.IncomingMessage) => req.method === "GET" && /\/blobs\/sha256:/.test(req.url ?? "");
const image = (ref: string) => up.images.find((i) => i.ref === ref)!;

describe("RegistryClient against the CNCF registry", () => {
  it("pings /v2/ (plain HTTP only because insecure)", async () => {
    expect(await client().ping()).toEqual({ authScheme: "none" });
    const strict = client(up.host, { insecure: false, retries: 0 });
    await expect(strict.ping()).rejects.toThrow(/cannot reach registry/);
  });

  it("gets every fixture manifest by tag and by digest, both formats", async () => {
    const c = client();
    for (const img of up.images) {
      for (const [tag, digest] of [
        [img.tag, img.upstreamDigest],
        [`${img.tag}-oci`, img.upstreamOciDigest],
      ] as const) {
        const byTag = await c.getManifest(img.repo, tag);
        expect(byTag.digest.toString(), `${img.repo}:${tag}`).toBe(digest);
        const byDigest = await c.getManifest(img.repo, digest);
        expect(byDigest.bytes.equals(byTag.bytes)).toBe(true);
        const head = await c.headManifest(img.repo, tag);
        expect(head).toEqual({
          digest: byTag.digest,
          mediaType: byTag.mediaType,
          size: byTag.bytes.length,
        });
        const isIndex = img.repo === "fixtures/multi";
        const oci = tag.endsWith("-oci");
        expect(byTag.mediaType).toBe(
          isIndex ? (oci ? MediaType.ociIndex : MediaType.dockerManifestList) : oci ? MediaType.ociManifest : MediaType.dockerManifest,
        );
      }
    }
  });

  it("reads the manifest list and its per-platform children", async () => {
    const c = client();
    const list = await c.getManifest("fixtures/multi", "1.0");
    const parsed = JSON.parse(list.bytes.toString()) as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    expect(parsed.manifests.map((m) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
    for (const m of parsed.manifests) {
      const child = await c.getManifest("fixtures/multi", m.digest);
      expect(child.mediaType).toBe(MediaType.dockerManifest);
      expect(child.digest.toString()).toBe(m.digest);
    }
  });

  it.each([
    ["on the download thread", true],
    ["on the caller's thread", false],
  ])("fetches config and layers into an FsBlobStore, verified and measured, %s; a second fetch is a no-op", async (_, offThread) => {
    const c = client();
    const diffIds = image("fixtures/app:1.0").layers!.map((l) => l.diffID);
    const store = await tempStore();
    const manifest = JSON.parse((await c.getManifest("fixtures/app", "1.0")).bytes.toString()) as {
      config: { digest: string; size: number };
      layers: { digest: string; size: number }[];
    };
    for (const [i, d] of [manifest.config, ...manifest.layers].entries()) {
      const digest = Digest.parse(d.digest);
      let progress = 0;
      const got = await c.fetchBlob("fixtures/app", digest, {
        blobs: store,
        expectedSize: d.size,
        measureLayer: i > 0,
        offThread,
        onProgress: (n) => (progress = n),
      });
      const { layer, ...blob } = got;
      expect(blob).toEqual({ digest, size: d.size, created: true });
      if (i > 0) expect(layer && "diffId" in layer && layer.diffId.toString()).toBe(diffIds[i - 1]);
      else expect(layer).toBeUndefined();
      expect(progress).toBe(d.size);
      const bytes = await store.read(digest, 64 * 1024 * 1024);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(digest.hex);
      expect(await c.headBlob("fixtures/app", digest)).toEqual({ digest, size: d.size });
      expect((await c.fetchBlob("fixtures/app", digest, { blobs: store })).created).toBe(false);
    }
    expect(manifest.config.digest).toBe(image("fixtures/app:1.0").configDigest);
  });

  it("names unknown repositories, tags and blobs clearly", async () => {
    const c = client();
    await expect(c.getManifest("fixtures/app", "nope")).rejects.toThrow("manifest unknown: fixtures/app:nope");
    await expect(c.getManifest("fixtures/nope", "1.0")).rejects.toThrow("manifest unknown: fixtures/nope:1.0");
    await expect(c.headManifest("fixtures/app", "nope")).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(c.listTags("fixtures/nope")).rejects.toThrow("repository name not known to registry: fixtures/nope");
    const missing = Digest.of("not a blob");
    await expect(c.headBlob("fixtures/app", missing)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const store = await tempStore();
    await expect(c.fetchBlob("fixtures/app", missing, { blobs: store })).rejects.toThrow(
      `blob unknown to registry: fixtures/app@${missing.toString()}`,
    );
    expect(await storeFiles(store)).toEqual([]);
  });

  it("lists the catalog with the registry's Link pagination (n=1)", async () => {
    const p = await proxy({});
    const c = client(p.host);
    expect(await c.catalog({ pageSize: 1 })).toEqual(["fixtures/app", "fixtures/base", "fixtures/big", "fixtures/multi"]);
    expect(p.requests.filter((r) => r.url.startsWith("/v2/_catalog")).length).toBe(4);
    expect(await c.catalog()).toHaveLength(4);
  });

  it("lists tags following Link pagination (n=1)", async () => {
    // distribution 2.8 ignores `n` on tags/list; this proxy pages the registry's real list
    // the way distribution 3 and most hosted registries do (sorted, `last` exclusive).
    const p = await proxy({
      respond(req, upstream, res) {
        const url = new URL(req.url ?? "", "http://x");
        if (!url.pathname.endsWith("/tags/list") || upstream.statusCode !== 200) return false;
        const chunks: Buffer[] = [];
        upstream.on("data", (c: Buffer) => chunks.push(c));
        upstream.on("end", () => {
          const body = JSON.parse(Buffer.concat(chunks).toString()) as {
            name: string;
            tags: string[];
          };
          const n = Number(url.searchParams.get("n") ?? 1000);
          const last = url.searchParams.get("last");
          const rest = body.tags.sort().filter((t) => last === null || t > last);
          const page = rest.slice(0, n);
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (rest.length > n) headers.link = `<${url.pathname}?n=${n}&last=${encodeURIComponent(page.at(-1)!)}>; rel="next"`;
          res.writeHead(200, headers);
          res.end(JSON.stringify({ name: body.name, tags: page }));
        });
        return true;
      },
    });
    const c = client(p.host);
    expect(await c.listTags("fixtures/app", { pageSize: 1 })).toEqual(["1.0", "1.0-oci", "2.0", "2.0-oci"]);
    expect(p.requests.filter((r) => r.url.includes("/tags/list")).map((r) => r.url)).toEqual([
      "/v2/fixtures/app/tags/list?n=1",
      "/v2/fixtures/app/tags/list?n=1&last=1.0",
      "/v2/fixtures/app/tags/list?n=1&last=1.0-oci",
      "/v2/fixtures/app/tags/list?n=1&last=2.0",
    ]);
    expect(await c.listTags("fixtures/base")).toEqual(expect.arrayContaining(["1.0", "1.0-oci"]));
  });

  it("caps manifest size and rejects schema1", async () => {
    const c = client();
    await expect(c.getManifest("fixtures/app", "1.0", { maxBytes: 100 })).rejects.toMatchObject({
      code: "TOO_LARGE",
    });
    const p = await proxy({
      respond(req, upstream, res) {
        if (!req.url?.includes("/manifests/")) return false;
        res.writeHead(200, {
          ...upstream.headers,
          "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws",
        });
        upstream.pipe(res);
        return true;
      },
    });
    await expect(client(p.host).getManifest("fixtures/app", "1.0")).rejects.toThrow(/unsupported media type .*schema1/);
  });

  it("rejects a manifest whose bytes do not match Docker-Content-Digest", async () => {
    const p = await proxy({
      respond(req, upstream, res) {
        if (!req.url?.includes("/manifests/")) return false;
        res.writeHead(200, {
          ...upstream.headers,
          "docker-content-digest": Digest.of("other").toString(),
        });
        upstream.pipe(res);
        return true;
      },
    });
    await expect(client(p.host).getManifest("fixtures/app", "1.0")).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it("rejects a corrupted blob and stores nothing", async () => {
    const p = await proxy({
      respond(req, upstream, res) {
        if (!isBlob(req)) return false;
        res.writeHead(upstream.statusCode ?? 200, upstream.headers);
        let first = true;
        upstream.on("data", (chunk: Buffer) => {
          if (first) chunk[0] = chunk[0]! ^ 0xff;
          first = false;
          res.write(chunk);
        });
        upstream.on("end", () => res.end());
        return true;
      },
    });
    const layer = image("fixtures/app:1.0").layers![0]!;
    const store = await tempStore();
    const err = await client(p.host)
      .fetchBlob("fixtures/app", Digest.parse(layer.digest), {
        blobs: store,
        expectedSize: layer.size,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(await storeFiles(store)).toEqual([]);
  });

  it("aborting mid-blob leaves no partial blob", async () => {
    const big = image("fixtures/big:1.0").layers!.at(-1)!;
    const store = await tempStore();
    const controller = new AbortController();
    const result = client().fetchBlob("fixtures/big", Digest.parse(big.digest), {
      blobs: store,
      expectedSize: big.size,
      signal: controller.signal,
      onProgress: (n) => {
        if (n > 1024 * 1024) controller.abort(new Error("stop"));
      },
    });
    await expect(result).rejects.toThrow("stop");
    expect(await storeFiles(store)).toEqual([]);
  });

  it("resumes a dropped blob download with Range", async () => {
    const big = image("fixtures/big:1.0").layers!.at(-1)!;
    let cut = false;
    const p = await proxy({
      respond(req, upstream, res) {
        if (!isBlob(req) || cut) return false;
        cut = true;
        res.writeHead(upstream.statusCode ?? 200, upstream.headers);
        let sent = 0;
        upstream.on("data", (chunk: Buffer) => {
          if (sent > 3 * 1024 * 1024) {
            upstream.destroy();
            res.destroy();
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        return true;
      },
    });
    const store = await tempStore();
    const got = await client(p.host).fetchBlob("fixtures/big", Digest.parse(big.digest), {
      blobs: store,
      expectedSize: big.size,
    });
    expect(got.size).toBe(big.size);
    const blobRequests = p.requests.filter((r) => r.url.includes("/blobs/"));
    expect(blobRequests.length).toBe(2);
    expect(blobRequests[1]!.headers.range).toMatch(/^bytes=\d+-$/);
    expect(await storeFiles(store)).toHaveLength(1);
  });

  it("times out a blob download that stalls midway and resumes it with Range", async () => {
    const big = image("fixtures/big:1.0").layers!.at(-1)!;
    let stalled = false;
    const held: ServerResponse[] = [];
    const p = await proxy({
      respond(req, upstream, res) {
        if (!isBlob(req) || stalled) return false;
        stalled = true;
        held.push(res);
        res.writeHead(upstream.statusCode ?? 200, upstream.headers);
        let sent = 0;
        // A MiB, then silence with the connection left open: only the idle timeout notices.
        upstream.on("data", (chunk: Buffer) => {
          if (sent >= 1024 * 1024) return void upstream.pause();
          sent += chunk.length;
          res.write(chunk);
        });
        return true;
      },
    });
    const store = await tempStore();
    try {
      const got = await client(p.host, { timeoutMs: 300 }).fetchBlob("fixtures/big", Digest.parse(big.digest), {
        blobs: store,
        expectedSize: big.size,
      });
      expect(got.size).toBe(big.size);
      const blobRequests = p.requests.filter((r) => r.url.includes("/blobs/"));
      expect(blobRequests.length).toBe(2);
      expect(blobRequests[1]!.headers.range).toMatch(/^bytes=[1-9]\d*-$/);
      expect(await storeFiles(store)).toHaveLength(1);
    } finally {
      for (const res of held) res.destroy();
    }
  });

  it("retries 5xx with back-off, and reports a registry that stays down", async () => {
    let failures = 2;
    const p = await proxy({
      intercept(req, res) {
        if (!req.url?.includes("/manifests/") || failures-- <= 0) return false;
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "service unavailable" }] }));
        return true;
      },
    });
    expect((await client(p.host).getManifest("fixtures/app", "1.0")).digest.toString()).toBe(image("fixtures/app:1.0").upstreamDigest);
    failures = 10;
    const err = (await client(p.host, { retries: 1 })
      .getManifest("fixtures/app", "1.0")
      .catch((e: unknown) => e)) as RegistryError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toBe("service unavailable: fixtures/app:1.0");
    expect(err.kind).toBe("unavailable");
  });

  it("times out a registry that never answers", async () => {
    const p = await proxy({ intercept: () => true });
    const c = client(p.host, { timeoutMs: 200, retries: 1 });
    await expect(c.getManifest("fixtures/app", "1.0")).rejects.toThrow(/timed out after 200 ms/);
  });
});

describe("RegistryClient over TLS", () => {
  it("verifies against a custom CA; insecure skips verification", async () => {
    const tls = selfSignedCert(await tempDir());
    const reg = await startRegistry(up.storage, "", tls);
    try {
      const digest = image("fixtures/app:1.0").upstreamDigest;
      expect((await client(reg.host, { insecure: false, ca: tls.pem }).getManifest("fixtures/app", "1.0")).digest.toString()).toBe(digest);
      await expect(client(reg.host, { insecure: false, retries: 0 }).ping()).rejects.toThrow(/cannot reach registry.*certificate/);
      expect((await client(reg.host, { insecure: true }).getManifest("fixtures/app", "1.0")).digest.toString()).toBe(digest);
    } finally {
      await reg.stop();
    }
  });
});

describe("RegistryClient authentication", () => {
  const user = "berth";
  const password = "s3cret-Pa55";

  it("Basic: pulls with credentials, names a refusal without leaking them", async () => {
    const htpasswd = join(await tempDir(), "htpasswd");
    await writeFile(htpasswd, htpasswdLine(user, password));
    const reg = await startRegistry(up.storage, ["  htpasswd:", "    realm: berth-test", `    path: ${htpasswd}`].join("\n"));
    try {
      const c = client(reg.host, { credentials: { username: user, password } });
      expect(await c.ping()).toEqual({ authScheme: "basic" });
      const m = await c.getManifest("fixtures/app", "1.0");
      expect(m.digest.toString()).toBe(image("fixtures/app:1.0").upstreamDigest);
      const store = await tempStore();
      const cfg = Digest.parse(image("fixtures/app:1.0").configDigest!);
      expect((await c.fetchBlob("fixtures/app", cfg, { blobs: store })).created).toBe(true);

      const anonymous = client(reg.host);
      expect(await anonymous.ping()).toEqual({ authScheme: "basic" });
      await expect(anonymous.getManifest("fixtures/app", "1.0")).rejects.toThrow(
        `unauthorized: authentication required for fixtures/app:1.0 on ${reg.host} (no credentials given)`,
      );
      const wrong = client(reg.host, {
        credentials: { username: user, password: "wrong-password" },
      });
      const err = (await wrong.ping().catch((e: unknown) => e)) as RegistryError;
      expect(err.kind).toBe("unauthorized");
      expect(err.message).toMatch(/credentials rejected/);
      expect(err.message).not.toContain("wrong-password");
    } finally {
      await reg.stop();
    }
  });

  it("Bearer: token flow per scope, cached, refreshed once on 401; redirects drop Authorization", async () => {
    const tokens = await startTokenServer(user, password);
    const reg = await startRegistry(up.storage, tokens.authYaml);
    try {
      const c = client(reg.host, { credentials: { username: user, password } });
      expect(await c.ping()).toEqual({ authScheme: "bearer" });
      const app = image("fixtures/app:1.0");
      for (let i = 0; i < 3; i++) expect((await c.getManifest("fixtures/app", "1.0")).digest.toString()).toBe(app.upstreamDigest);
      const appScopes = tokens.requests.filter((r) => r.scope === "repository:fixtures/app:pull");
      expect(appScopes).toHaveLength(1);
      expect(appScopes[0]!.authorization).toMatch(/^Basic /);

      // A token without the access the registry wants: the client asks once more.
      tokens.denyOnce.add("repository:fixtures/base:pull");
      expect((await c.getManifest("fixtures/base", "1.0")).digest.toString()).toBe(image("fixtures/base:1.0").upstreamDigest);
      expect(tokens.requests.filter((r) => r.scope === "repository:fixtures/base:pull")).toHaveLength(2);
      expect(await c.catalog()).toEqual(["fixtures/app", "fixtures/base", "fixtures/big", "fixtures/multi"]);

      // Anonymous pull with an anonymous token works; a bad password does not.
      expect((await client(reg.host).getManifest("fixtures/app", "2.0")).digest.toString()).toBe(image("fixtures/app:2.0").upstreamDigest);
      const bad = client(reg.host, { credentials: { username: user, password: "nope-nope" } });
      const err = (await bad.getManifest("fixtures/app", "1.0").catch((e: unknown) => e)) as RegistryError;
      expect(err.kind).toBe("unauthorized");
      expect(err.message).not.toContain("nope-nope");

      // Blob redirect to another origin (as registries do to object storage): no Authorization there.
      // The "object store" on another origin serves the blob from the anonymous upstream.
      const storage = await startProxy(up.host, {}, "localhost");
      proxies.push(storage);
      const front = await startProxy(reg.host, {
        intercept(req, res) {
          if (!isBlob(req)) return false;
          res.writeHead(307, { location: `http://localhost:${storage.port}${req.url}` });
          res.end();
          return true;
        },
      });
      proxies.push(front);
      const viaRedirect = client(front.host, { credentials: { username: user, password } });
      await viaRedirect.getManifest("fixtures/app", "1.0"); // learns the challenge, caches the token
      const store = await tempStore();
      const cfg = Digest.parse(app.configDigest!);
      expect((await viaRedirect.fetchBlob("fixtures/app", cfg, { blobs: store })).created).toBe(true);
      expect(front.requests.filter((r) => r.url.includes("/blobs/")).map((r) => r.headers.authorization?.split(" ")[0])).toEqual([
        "Bearer",
      ]);
      expect(storage.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
    } finally {
      await reg.stop();
      await tokens.close();
    }
  });
});
