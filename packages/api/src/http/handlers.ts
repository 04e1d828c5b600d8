import { Readable } from "node:stream";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "../root";
import { createContext, SESSION_COOKIE, type Context, type Services } from "../context";
import { signIn, signOut } from "../services/auth";
import { checkSaveable, loadArchiveFor, saveImagesFor } from "../services/archives";
import { handleCommit, handleImport } from "./image-edit-routes";
import { exportAudit } from "../services/audit-export";
import { exportQuery } from "../audit/filter-input";
import { handleAuditArchive } from "./audit-routes";
import { keyValues, queueBuild } from "../services/build-queue";
import { errorResponse, json } from "./respond";
import { requestBody, streamResponse } from "./node-bodies";
import { guard } from "../auth/guard";
import { canSomewhere } from "../auth/permissions";
import { handleRegistryRequest } from "../registry-api/handle";
import { requestBase } from "../registry-api/caller";

export interface HandlerOptions {
  services: Services;
  remoteAddress?: string | null;
}

function sessionCookie(value: string, expires: Date | null, secure: boolean): string {
  const parts = [`${SESSION_COOKIE}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  parts.push(expires ? `Expires=${expires.toUTCString()}` : "Max-Age=0");
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

async function health(opts: HandlerOptions): Promise<Response> {
  const checks: Record<string, string> = {};
  let ok = true;
  try {
    await opts.services.db.$queryRaw`SELECT 1`;
    checks.database = "ok";
  } catch (err) {
    ok = false;
    checks.database = (err as Error).message;
  }
  try {
    await opts.services.blobs.check();
    checks.blobs = "ok";
  } catch (err) {
    ok = false;
    checks.blobs = (err as Error).message;
  }
  return json({ status: ok ? "ok" : "unavailable", checks }, ok ? 200 : 503);
}

async function handleSignIn(req: Request, ctx: Context): Promise<Response> {
  const body = (await req.json().catch(() => null)) as { username?: unknown; password?: unknown } | null;
  if (typeof body?.username !== "string" || typeof body.password !== "string") {
    return json({ error: "username and password are required" }, 400);
  }
  const session = await signIn(ctx, body.username, body.password);
  const secure = new URL(req.url).protocol === "https:";
  return json({ username: session.username }, 200, {
    "set-cookie": sessionCookie(session.secret, session.expiresAt, secure),
  });
}

async function handleSignOut(req: Request, ctx: Context): Promise<Response> {
  const cookie = req.headers.get("cookie") ?? "";
  const secret = cookie
    .split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
  await signOut(ctx, secret);
  return json({ ok: true }, 200, { "set-cookie": sessionCookie("", null, false) });
}

async function handleLoad(req: Request, ctx: Context): Promise<Response> {
  const source = new URL(req.url).searchParams.get("source") ?? "upload";
  // Refused before the upload is read when the caller may load nowhere (the server then drains
  // the body, so the client reads the answer); each tag's namespace is checked once the
  // archive's names are known (loadArchiveFor).
  if (!canSomewhere(ctx.actor, "load")) await guard(ctx, "load", [], { audit: "image.load", auditAnonymous: true, details: { source } });
  const input = requestBody(req);
  if (!input) return json({ error: "the request has no body: send the archive as the request body" }, 400);
  try {
    return json(await loadArchiveFor(ctx, input, source));
  } catch (err) {
    // The rest of the upload was not read: the connection cannot carry another request.
    const response = errorResponse(err);
    response.headers.set("connection", "close");
    return response;
  }
}

/**
 * `docker build`'s upload: the body is the context tar; options in the query (`t`, `f`,
 * `buildarg=K=V`, `label=K=V`, `target`, `nocache=1`, `platform`), repeated where docker repeats
 * them. Answers with the queued job's id; its output is the job's progress.
 */
async function handleBuild(req: Request, ctx: Context): Promise<Response> {
  const q = new URL(req.url).searchParams;
  const input = requestBody(req);
  if (!input) return json({ error: "the request has no body: send the build context as a tar" }, 400);
  try {
    const job = await queueBuild(ctx, input, {
      tags: q.getAll("t").filter(Boolean),
      dockerfile: q.get("f") || undefined,
      buildArgs: keyValues(q.getAll("buildarg"), "--build-arg"),
      labels: keyValues(q.getAll("label"), "--label"),
      target: q.get("target") || undefined,
      noCache: q.get("nocache") === "1",
      platform: q.get("platform") || undefined,
    });
    return json(job);
  } catch (err) {
    const response = errorResponse(err);
    response.headers.set("connection", "close");
    return response;
  }
}

async function handleSave(req: Request, ctx: Context): Promise<Response> {
  const refs = new URL(req.url).searchParams.getAll("ref").filter(Boolean);
  await guard(
    ctx,
    "read",
    refs.map((ref) => ({ ref })),
    { audit: "image.save", auditAnonymous: true },
  );
  if (refs.length === 0) return json({ error: "name at least one image: ?ref=<name or ID>" }, 400);
  const selected = await checkSaveable(ctx, refs);
  const { PassThrough } = await import("node:stream");
  const out = new PassThrough();
  const abort = new AbortController();
  req.signal.addEventListener("abort", () => abort.abort());
  saveImagesFor(ctx, refs, out, { signal: abort.signal, selected }).then(
    () => out.end(),
    (err: unknown) => out.destroy(err as Error),
  );
  const name = refs.length === 1 ? refs[0]!.replace(/[^A-Za-z0-9._-]+/g, "_") : "images";
  return streamResponse(out, {
    headers: {
      "content-type": "application/x-tar",
      "content-disposition": `attachment; filename="${name}.tar"`,
    },
  });
}

async function handleAuditExport(req: Request, ctx: Context): Promise<Response> {
  await guard(ctx, "read", [], { audit: "audit.export", auditAnonymous: false });
  const { format, filter } = exportQuery(req.url);
  const lines = exportAudit(ctx, filter, format);
  return streamResponse(Readable.from(lines), {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
      "content-disposition": `attachment; filename="berth-audit.${format}"`,
    },
  });
}

type Route = (req: Request, ctx: Context) => Promise<Response>;
const ROUTES: Record<string, Partial<Record<string, Route>>> = {
  "/api/auth/sign-in": { POST: handleSignIn },
  "/api/auth/sign-out": { POST: handleSignOut },
  "/api/images/load": { POST: handleLoad },
  "/api/images/build": { POST: handleBuild },
  "/api/images/save": { GET: handleSave },
  "/api/images/import": { POST: handleImport },
  "/api/images/commit": { POST: handleCommit },
  "/api/audit/export": { GET: handleAuditExport },
  "/api/audit/archive": { POST: handleAuditArchive },
};

/**
 * Every plain-HTTP endpoint of Berth (and the registry API under `/v2/`) as one fetch handler,
 * so the Next.js route files and a bare Node server (tests, CLI checks) serve exactly the same thing.
 * Returns undefined for paths it does not own.
 */
export async function handleApiRequest(req: Request, opts: HandlerOptions): Promise<Response | undefined> {
  const { pathname } = new URL(req.url);
  if (pathname === "/v2" || pathname.startsWith("/v2/")) return handleRegistryRequest(req, opts);
  if (pathname === "/api/health") return health(opts);
  if (pathname.startsWith("/api/trpc")) {
    return fetchRequestHandler({
      endpoint: "/api/trpc",
      req,
      router: appRouter,
      createContext: () =>
        createContext({ services: opts.services, headers: req.headers, remoteAddress: opts.remoteAddress, baseUrl: requestBase(req) }),
      onError({ error }) {
        if (error.code === "INTERNAL_SERVER_ERROR") console.error(error);
      },
    });
  }
  const route = ROUTES[pathname];
  if (!route) return undefined;
  const handler = route[req.method];
  if (!handler) return json({ error: `${req.method} is not supported on ${pathname}` }, 405);
  try {
    const ctx = await createContext({ services: opts.services, headers: req.headers, remoteAddress: opts.remoteAddress });
    return await handler(req, ctx);
  } catch (err) {
    return errorResponse(err);
  }
}
