import { createTRPCClient, httpLink } from "@trpc/client";
import { transformer } from "../src/transformer";
import type { AppRouter } from "../src/root";

/** A typed client for the test server, acting with `token` like the CLI does. */
export function apiClient(url: string, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        transformer,
        headers: () => ({ "x-berth-client": "cli", ...(token ? { authorization: `Bearer ${token}` } : {}) }),
      }),
    ],
  });
}

export async function uploadArchive(url: string, token: string, body: RequestInit["body"], source = "test.tar") {
  const res = await fetch(`${url}/api/images/load?source=${encodeURIComponent(source)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "x-berth-client": "cli" },
    body,
    duplex: "half",
  });
  return { status: res.status, body: (await res.json()) as { lines?: string[]; error?: string } };
}
