import type { Services } from "../context";
import { deleteBlob, deleteManifest } from "./delete";
import { getBlob, getManifest } from "./read-endpoints";
import { challenge, registryContext, type RegistryCtx } from "./caller";
import { API_VERSION_HEADER, RegistryError, registryErrorResponse } from "./errors";
import { listCatalog, listTags } from "./listing";
import { matchRoute, type RegistryRoute } from "./names";
import { putManifest } from "./push-manifest";
import { listReferrers } from "./referrers";
import { handleToken } from "./token-endpoint";
import { continueUpload, startUpload } from "./uploads";

/** `GET /v2/`: 200 for a valid token (anonymous ones too), else the challenge docker login answers. */
function base(ctx: RegistryCtx): Response {
  // A token whose person or API token has since been disabled or revoked is no token.
  if (!ctx.claims || (ctx.claims.sub && !ctx.actor)) {
    throw new RegistryError("UNAUTHORIZED", `authentication required (${ctx.authFailure ?? "not signed in"})`, null, challenge(ctx));
  }
  return new Response("{}", { headers: { "content-type": "application/json", ...API_VERSION_HEADER } });
}

function dispatch(req: Request, ctx: RegistryCtx, route: RegistryRoute): Promise<Response> | Response {
  const method = req.method;
  const read = method === "GET" || method === "HEAD";
  switch (route.kind) {
    case "base":
      if (read) return base(ctx);
      break;
    case "token":
      if (method === "GET") return handleToken(req, ctx);
      break;
    case "catalog":
      if (method === "GET") return listCatalog(req, ctx);
      break;
    case "tags":
      if (method === "GET") return listTags(req, ctx, route.name);
      break;
    case "manifest":
      if (read) return getManifest(req, ctx, route.name, route.reference);
      if (method === "PUT") return putManifest(req, ctx, route.name, route.reference);
      if (method === "DELETE") return deleteManifest(ctx, route.name, route.reference);
      break;
    case "blob":
      if (read) return getBlob(req, ctx, route.name, route.digest);
      if (method === "DELETE") return deleteBlob(ctx, route.name, route.digest);
      break;
    case "upload-start":
      if (method === "POST") return startUpload(req, ctx, route.name);
      break;
    case "upload":
      return continueUpload(req, ctx, route.name, route.id);
    case "referrers":
      if (method === "GET") return listReferrers(req, ctx, route.name, route.digest);
      break;
  }
  throw new RegistryError("UNSUPPORTED", `${method} ${new URL(req.url).pathname} is not supported`);
}

/**
 * Berth as an OCI distribution registry (`/v2/…`), with its own token server at `/v2/token`.
 * Served by the same fetch handler as the API (handleApiRequest).
 */
export async function handleRegistryRequest(req: Request, opts: { services: Services; remoteAddress?: string | null }): Promise<Response> {
  try {
    const ctx = await registryContext(req, opts.services, opts.remoteAddress ?? null);
    const route = matchRoute(new URL(req.url).pathname);
    if (!route) throw new RegistryError("NAME_UNKNOWN", `no such registry endpoint: ${new URL(req.url).pathname}`);
    return await dispatch(req, ctx, route);
  } catch (err) {
    const response = registryErrorResponse(err);
    // A refused upload was not read: the connection cannot carry another request.
    if (req.method !== "GET" && req.method !== "HEAD" && !req.bodyUsed) response.headers.set("connection", "close");
    return response;
  }
}
