import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";

/**
 * Large bodies (archive uploads and downloads) skip the web-stream round trip when the
 * server runs on Node's http module: converting Node → web → Node streams more than halves
 * the throughput. The fetch-style handlers stay the single code path; only the body travels
 * beside the Request/Response object.
 */
const requestBodies = new WeakMap<Request, Readable>();
const responseBodies = new WeakMap<Response, Readable>();

export function attachRequestBody(req: Request, body: Readable): void {
  requestBodies.set(req, body);
}

/** The request body as a Node stream, however the request arrived. */
export function requestBody(req: Request): Readable | null {
  const attached = requestBodies.get(req);
  if (attached) return attached;
  return req.body ? Readable.fromWeb(asNodeStream(req.body)) : null;
}

/**
 * A response whose body is a Node stream. Served by `sendFetchResponse`, it is piped
 * straight to the socket.
 */
export function streamResponse(body: Readable, init: ResponseInit): Response {
  const response = new Response(null, init);
  responseBodies.set(response, body);
  return response;
}

export function responseBody(res: Response): Readable | null {
  const attached = responseBodies.get(res);
  if (attached) return attached;
  return res.body ? Readable.fromWeb(asNodeStream(res.body)) : null;
}

/**
 * The same object, typed for Node: packages compiled with the DOM library (the dashboard)
 * see fetch's bodies as DOM streams, which Node's typings do not accept.
 */
function asNodeStream(body: ReadableStream<Uint8Array>): NodeReadableStream<Uint8Array> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed under the DOM library
  return body as unknown as NodeReadableStream<Uint8Array>;
}
