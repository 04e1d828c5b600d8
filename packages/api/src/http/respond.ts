import { HTTP_STATUS, toTRPCError } from "../errors";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Any error as `{ error: message }` with the status the catalogue assigns. */
export function errorResponse(err: unknown): Response {
  const trpc = toTRPCError(err);
  const status = HTTP_STATUS[trpc.code] ?? 500;
  if (status >= 500) console.error(err);
  return json({ error: trpc.message }, status);
}
