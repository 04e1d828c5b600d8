import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { transformer } from "@berth/api/transformer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "../src/api";
import { DaemonError, PlainError } from "../src/errors";

/** A stand-in speaking tRPC's HTTP wire format (JSON with tagged dates) plus the two archive endpoints. */
let server: Server;
let url: string;
const seen: { method: string; path: string; headers: IncomingMessage["headers"]; body: string }[] = [];

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? "/", "http://x");
      const text = await body(req);
      seen.push({ method: req.method ?? "", path: u.pathname + u.search, headers: req.headers, body: text });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (u.pathname === "/api/trpc/images.list") {
        const input = transformer.deserialize(JSON.parse(u.searchParams.get("input") ?? "null")) as { all: boolean };
        return json(200, {
          result: {
            data: transformer.serialize([
              {
                repository: "fixtures/app",
                tag: "1.0",
                id: `sha256:${"a".repeat(64)}`,
                digest: null,
                created: new Date("2024-01-01T00:00:00Z"),
                size: 10,
                sharedSize: -1,
                uniqueSize: -1,
                labels: { all: String(input.all) },
              },
            ]),
          },
        });
      }
      if (u.pathname === "/api/trpc/images.tag") {
        return json(404, {
          error: transformer.serialize({
            message: "No such image: nope:latest",
            code: -32004,
            data: { code: "NOT_FOUND", httpStatus: 404 },
          }),
        });
      }
      if (u.pathname === "/api/trpc/auth.login") {
        const input = transformer.deserialize(JSON.parse(text)) as { username: string };
        return json(200, { result: { data: transformer.serialize({ id: "tok-1", name: "x", token: `brt_${input.username}` }) } });
      }
      if (u.pathname === "/api/images/load") return json(200, { lines: [`Loaded image: ${text} (${u.searchParams.get("source")})`] });
      if (u.pathname === "/api/images/save") {
        const refs = u.searchParams.getAll("ref");
        if (refs.includes("nope")) return json(404, { error: "No such image: nope:latest" });
        res.writeHead(200, { "content-type": "application/x-tar" });
        return res.end(`TAR:${refs.join(",")}`);
      }
      json(404, { error: "not found" });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("createApi against the tRPC wire format", () => {
  it("sends the CLI headers and decodes tagged dates through the adapter", async () => {
    const api = createApi({ url, token: "brt_abc" });
    const rows = await api.listImages({ all: true, filters: {} });
    expect(rows[0]).toMatchObject({ repository: "fixtures/app", id: `sha256:${"a".repeat(64)}`, labels: { all: "true" } });
    expect(rows[0]?.created).toEqual(new Date("2024-01-01T00:00:00Z"));
    const req = seen.at(-1);
    expect(req?.headers["x-berth-client"]).toBe("cli");
    expect(req?.headers.authorization).toBe("Bearer brt_abc");
  });

  it("login is a mutation returning the token and its id", async () => {
    const api = createApi({ url });
    expect(await api.login({ username: "admin", password: "pw", name: "n" })).toEqual({ token: "brt_admin", tokenId: "tok-1" });
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("maps tRPC errors to daemon errors with the server's message", async () => {
    const api = createApi({ url, token: "t" });
    await expect(api.tag("nope", "x")).rejects.toEqual(new DaemonError("No such image: nope:latest", "NOT_FOUND"));
  });

  it("streams load bodies and save archives; JSON errors become daemon errors", async () => {
    const api = createApi({ url, token: "t" });
    expect(await api.load(Readable.from([Buffer.from("ARCH"), Buffer.from("IVE")]), "img.tar")).toEqual([
      "Loaded image: ARCHIVE (img.tar)",
    ]);
    expect(seen.at(-1)?.headers["content-type"]).toBe("application/x-tar");
    const archive = await api.save(["a:1", "b"]);
    const chunks: Buffer[] = [];
    for await (const c of archive) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("TAR:a:1,b");
    expect(seen.at(-1)?.path).toBe("/api/images/save?ref=a%3A1&ref=b");
    await expect(api.save(["nope"])).rejects.toEqual(new DaemonError("No such image: nope:latest"));
  });

  it("reports an unreachable server like docker reports a missing daemon", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const api = createApi({ url: `http://127.0.0.1:${port}` });
    await expect(api.listImages({ all: false, filters: {} })).rejects.toEqual(
      new PlainError(`Cannot connect to the Berth server at http://127.0.0.1:${port}. Is the server running?`),
    );
    await expect(createApi({ url: `http://127.0.0.1:${port}` }).save(["a"])).rejects.toBeInstanceOf(PlainError);
  });
});
