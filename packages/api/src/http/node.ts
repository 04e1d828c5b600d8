import http from "node:http";
import { Readable } from "node:stream";
import type { Services } from "../context";
import { handleApiRequest } from "./handlers";

/** Node's request as a fetch Request; the body stays a stream (uploads are never buffered). */
export function toFetchRequest(req: http.IncomingMessage, base: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const item of v) headers.append(k, item);
    else if (v !== undefined) headers.set(k, v);
  }
  const controller = new AbortController();
  req.on("close", () => {
    if (!req.complete) controller.abort();
  });
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url ?? "/", base), {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
    signal: controller.signal,
    duplex: "half",
  } as RequestInit);
}

export async function sendFetchResponse(res: http.ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === "set-cookie") headers[key] = response.headers.getSetCookie();
    else headers[key] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) return void res.end();
  const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream);
  await new Promise<void>((resolve) => {
    body.on("error", () => { res.destroy(); resolve(); });
    res.on("close", () => { body.destroy(); resolve(); });
    body.pipe(res);
  });
}

/** A bare HTTP server with Berth's API only (no dashboard): used by tests and the CLI's checks. */
export function createApiServer(services: Services): http.Server {
  return http.createServer((req, res) => {
    const request = toFetchRequest(req, "http://127.0.0.1");
    void handleApiRequest(request, { services, remoteAddress: req.socket.remoteAddress ?? null })
      .then((response) => sendFetchResponse(res, response ?? new Response('{"error":"not found"}', { status: 404 })))
      .catch((err: unknown) => {
        console.error(err);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
}
