"use client";

import { useQuery } from "@tanstack/react-query";
import type { Action } from "~/lib/people";
import { useTRPC } from "~/trpc/react";

/**
 * What the signed-in person may do, from `auth.me`, to hide or disable what they cannot.
 * The server decides every request anyway; until `auth.me` answers everything counts as allowed,
 * so nothing flickers away for the people who may use it.
 */
export function usePermissions() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const summary = me.data?.permissions;
  return {
    me: me.data ?? null,
    known: summary !== undefined,
    /** May the caller do `action` in at least one namespace (global actions: at all)? */
    can: (action: Action): boolean => summary?.somewhere[action] ?? true,
  };
}

/**
 * Whether the caller may do `action` on one reference (its namespace) or in a namespace, as the
 * server judges it; undefined while it is being asked.
 */
export function useCanFor(action: Action, target: { reference?: string; namespace?: string }): boolean | undefined {
  const trpc = useTRPC();
  const answer = useQuery(
    trpc.auth.can.queryOptions({ action, ref: target.reference, namespace: target.namespace }, { staleTime: 30_000 }),
  );
  return answer.data?.allowed;
}
