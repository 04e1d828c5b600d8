import type { Readable } from "node:stream";
import type { Context } from "../context";
import { commitImageFor, importImageFor, type ImageEditResult } from "../services/image-edit";
import { requestBody } from "./node-bodies";
import { errorResponse, json } from "./respond";

/**
 * `POST /api/images/import?ref=&change=&message=&platform=&source=` with the rootfs tarball (plain,
 * gzip, xz or zstd) as the body: `docker import`. Answers `{ id, tag, previous, lines }`.
 */
export async function handleImport(req: Request, ctx: Context): Promise<Response> {
  const q = new URL(req.url).searchParams;
  const input = hasBody(req) ? requestBody(req) : null;
  if (!input) return json({ error: "the request has no body: send the rootfs tarball as the request body" }, 400);
  return answer(() =>
    importImageFor(ctx, input, {
      reference: optional(q.get("ref")),
      changes: q.getAll("change"),
      message: optional(q.get("message")),
      platform: optional(q.get("platform")),
      source: optional(q.get("source")),
    }),
  );
}

/**
 * `POST /api/images/commit?base=&ref=&change=&message=&author=&delete=` with an optional changes
 * tarball as the body (files added or replaced, `.wh.` whiteouts): `docker commit` without a container.
 */
export async function handleCommit(req: Request, ctx: Context): Promise<Response> {
  const q = new URL(req.url).searchParams;
  const base = optional(q.get("base"));
  if (!base) return json({ error: "name the base image: ?base=<name or ID>" }, 400);
  const changes: Readable | null = hasBody(req) ? requestBody(req) : null;
  return answer(() =>
    commitImageFor(ctx, changes, {
      base,
      reference: optional(q.get("ref")),
      changes: q.getAll("change"),
      message: optional(q.get("message")),
      author: optional(q.get("author")),
      deletes: q.getAll("delete"),
    }),
  );
}

async function answer(run: () => Promise<ImageEditResult>): Promise<Response> {
  try {
    return json(await run());
  } catch (err) {
    // The rest of the upload may not have been read: the connection cannot carry another request.
    const response = errorResponse(err);
    response.headers.set("connection", "close");
    return response;
  }
}

/** A body of zero bytes (what a client without one sends) counts as none. */
function hasBody(req: Request): boolean {
  return (
    req.headers.get("content-length") !== "0" &&
    (req.body !== null || req.headers.has("content-length") || req.headers.has("transfer-encoding"))
  );
}

function optional(value: string | null): string | undefined {
  return value === null || value.trim() === "" ? undefined : value;
}
