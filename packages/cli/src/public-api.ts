import type { TRPCClient } from "@trpc/client";
import type { AppRouter, RouterOutputs } from "@berth/api";

/** A public namespace as the server lists it: anyone may pull its images from Berth's registry. */
export type PublicNamespace = RouterOutputs["publicNamespaces"]["list"][number];

/** Public namespaces (`berth public …`): everyone signed in lists them, admins change them. */
export interface PublicNamespacesApi {
  list(): Promise<PublicNamespace[]>;
  add(namespace: string): Promise<PublicNamespace>;
  remove(namespace: string): Promise<PublicNamespace>;
}

type Call = <T>(fn: () => Promise<T>) => Promise<T>;

export function publicNamespacesApi(trpc: TRPCClient<AppRouter>, call: Call): PublicNamespacesApi {
  return {
    list: () => call(() => trpc.publicNamespaces.list.query()),
    add: (namespace) => call(() => trpc.publicNamespaces.add.mutate({ namespace })),
    remove: (namespace) => call(() => trpc.publicNamespaces.remove.mutate({ namespace })),
  };
}
