import http from "node:http";
import { fileBodyOf, sendFile } from "./file-response";
import { Readable } from "node:stream";
import type { Services } from "../context";
import { handleApiRequest } from "./handlers";
import { attachRequestBody, responseBody } from "./node-bodies";

/** Besides these, every registry request (`/v2/…`: blob uploads, manifests) reads the Node stream. */
const STREAMED_UPLOADS = new Set(["/api/images/load", "/api/images/build", "/api/images/import", "/api/images/commit"]);

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
  const url = new URL(req.url ?? "/", base);
  // Uploads read the Node stream directly (see node-bodies.ts); small JSON bodies go through fetch's.
  const streamed = hasBody && (STREAMED_UPLOADS.has(url.pathname) || url.pathname.startsWith("/v2/"));
  // `duplex` is required by Node's fetch for streamed bodies but absent from the DOM typings
  // the dashboard compiles this file with; the init object is typed loosely for both.
  const init: RequestInit & { duplex: "half" } = {
    method: req.method,
    headers,
    body: hasBody && !streamed ? (Readable.toWeb(req) as ReadableStream) : undefined,
    signal: controller.signal,
    duplex: "half",
  };
  const request = new Request(url, init);
  if (streamed) attachRequestBody(request, req);
  return request;
}

export async function sendFetchResponse(res: http.ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === "set-cookie") headers[key] = response.headers.getSetCookie();
    else headers[key] = value;
  });
  res.writeHead(response.status, headers);
  const file = fileBodyOf(response);
  if (file) return sendFile(res, file);
  const body = responseBody(response);
  if (!body) return void res.end();
  await new Promise<void>((resolve) => {
    body.on("error", (err) => {
      // Headers are gone already: the only way to tell the client is to cut the connection.
      console.error(`berth: response body failed: ${err.message}`);
      res.destroy();
      resolve();
    });
    res.on("close", () => {
      body.destroy();
      resolve();
    });
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
