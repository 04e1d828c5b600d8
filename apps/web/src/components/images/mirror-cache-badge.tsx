"use client";

import { useQuery } from "@tanstack/react-query";
import { Badge } from "~/components/ui";
import { formatDateTime, formatRelative } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

/**
 * "cached from docker.io" on an image the pull-through mirror brought in (a daemon with Berth in
 * its registry-mirrors asked for it), with when and for whom it was last pulled. Nothing otherwise.
 */
export function MirrorCacheBadge({ imageRef }: { imageRef: string }) {
  const trpc = useTRPC();
  const cache = useQuery(trpc.images.mirrorCache.queryOptions({ ref: imageRef }));
  const entries = cache.data ?? [];
  const latest = entries[0];
  if (!latest) return null;
  const refs = entries.map((e) => e.ref).join(", ");
  return (
    <span
      className="inline-flex items-center gap-1.5 text-xs text-slate-500 dark:text-slate-400"
      title={`Cached by the pull-through mirror (${refs}); last pulled ${formatDateTime(latest.lastPulledAt)} by ${latest.lastPulledBy}; tag last checked against docker.io ${formatDateTime(latest.checkedAt)}.`}
      data-testid="mirror-cache"
    >
      <Badge tone="info">cached from {latest.cachedFrom}</Badge>
      last pulled {formatRelative(latest.lastPulledAt)} by {latest.lastPulledBy}
    </span>
  );
}
