"use client";

import { useQuery } from "@tanstack/react-query";
import { usePermissions } from "~/components/account/use-permissions";
import { Button } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

/**
 * Admins: re-walks the whole hash chain on the server and shows "intact, N events" or the first
 * broken link. Runs only when asked (it reads every event).
 */
export function VerifyChain() {
  const trpc = useTRPC();
  const { can } = usePermissions();
  const verify = useQuery(trpc.audit.verify.queryOptions(undefined, { enabled: false, retry: false, gcTime: 0 }));
  if (!can("audit-verify")) return null;
  const result = verify.data;
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="audit-verify">
      <Button onClick={() => void verify.refetch()} loading={verify.isFetching} data-testid="audit-verify-run">
        Verify chain
      </Button>
      <span role="status" aria-live="polite" className="text-sm">
        {verify.isFetching ? (
          <span className="text-slate-500">Re-walking the chain…</span>
        ) : verify.error ? (
          <span className="text-rose-700 dark:text-rose-300">{errorMessage(verify.error)}</span>
        ) : result?.ok ? (
          <span className="text-emerald-700 dark:text-emerald-300" data-testid="audit-verify-ok">
            Chain intact: {result.count.toLocaleString()} events verified
          </span>
        ) : result ? (
          <span className="text-rose-700 dark:text-rose-300" data-testid="audit-verify-broken">
            Broken at event #{result.brokenAtId}: {result.reason}
          </span>
        ) : null}
      </span>
    </div>
  );
}
