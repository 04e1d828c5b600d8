"use client";

import { useEffect, useRef } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Badge, ErrorState } from "~/components/ui";
import { useTRPC } from "~/trpc/react";

/**
 * Big layers pushed to Berth's registry are checked against the image's config just after the
 * push: while that runs the page says so (sizes are the compressed ones until then, and the page
 * reloads them after), and an image whose layer turned out not to match says why. Nothing otherwise.
 */
export function LayerCheckNotice({ imageRef }: { imageRef: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const state = useQuery({
    ...trpc.images.layerCheck.queryOptions({ ref: imageRef }),
    refetchInterval: (query) => ((query.state.data?.unchecked ?? 0) > 0 ? 2000 : false),
  });
  const unchecked = state.data?.unchecked ?? 0;
  const waited = useRef(false);
  useEffect(() => {
    if (unchecked > 0) waited.current = true;
    else if (waited.current) {
      waited.current = false;
      void queryClient.invalidateQueries();
    }
  }, [unchecked, queryClient]);

  if (state.data?.problem) {
    return <ErrorState className="mb-4" title="This image does not match its config" message={state.data.problem} />;
  }
  if (unchecked === 0) return null;
  return (
    <p className="mb-4 text-sm text-slate-600 dark:text-slate-300" role="status" data-testid="layer-check-pending">
      <Badge tone="info">layers not checked yet</Badge> {unchecked} pushed layer{unchecked === 1 ? " has" : "s have"} yet to be checked
      against the image&apos;s config (a layer-check job runs after each push); sizes shown are compressed until then.
    </p>
  );
}
