"use client";

import type { AppRouter } from "@berth/api";
import { QueryCache, QueryClient, QueryClientProvider, MutationCache } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { useState, type ReactNode } from "react";
import { transformer } from "@berth/api/transformer";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** True when the server said the session is missing or expired. */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === "UNAUTHORIZED";
}

function redirectToSignIn() {
  if (typeof window === "undefined" || window.location.pathname === "/sign-in") return;
  const next = window.location.pathname + window.location.search;
  window.location.assign(`/sign-in?next=${encodeURIComponent(next)}`);
}

function makeQueryClient() {
  return new QueryClient({
    queryCache: new QueryCache({ onError: (error) => isUnauthorized(error) && redirectToSignIn() }),
    mutationCache: new MutationCache({ onError: (error) => isUnauthorized(error) && redirectToSignIn() }),
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        retry: (count, error) => !isUnauthorized(error) && !(error instanceof TRPCClientError && error.data) && count < 2,
      },
    },
  });
}

function origin(): string {
  return typeof window === "undefined" ? "http://localhost" : window.location.origin;
}

let browserQueryClient: QueryClient | undefined;
function getQueryClient() {
  if (typeof window === "undefined") return makeQueryClient();
  return (browserQueryClient ??= makeQueryClient());
}

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const queryClient = getQueryClient();
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        // Subscriptions (a job's live progress) arrive as server-sent events; the rest is batched.
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({ url: `${origin()}/api/trpc`, transformer }),
          false: httpBatchLink({
            url: `${origin()}/api/trpc`,
            transformer,
            fetch: (url, init) => fetch(url, { ...init, credentials: "same-origin" }),
            headers: () => ({ "x-berth-client": "web" }),
          }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
