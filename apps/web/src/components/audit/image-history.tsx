"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { Badge, Button, EmptyState, ErrorState, TableSkeleton } from "~/components/ui";
import { describeForImage } from "~/lib/audit-sentences";
import { errorMessage, formatDateTime, formatRelative } from "~/lib/format";
import { toAuditEvents } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

/** The image page's history: every event naming this image or its tags, as sentences, newest first. */
export function ImageHistory({ imageId }: { imageId: string }) {
  const trpc = useTRPC();
  const query = useInfiniteQuery(
    trpc.audit.forImage.infiniteQueryOptions({ id: imageId, limit: 20 }, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
  );
  const events = useMemo(() => (query.data?.pages ?? []).flatMap((p) => toAuditEvents(p)), [query.data]);

  return (
    <section className="mt-6" aria-labelledby="image-history-heading">
      <h2 id="image-history-heading" className="mb-2 text-sm font-semibold">
        Activity <span className="font-normal text-slate-500">from the audit log</span>
      </h2>
      {query.isPending ? (
        <TableSkeleton rows={3} />
      ) : query.error && events.length === 0 ? (
        <ErrorState title="Could not load this image's history" message={errorMessage(query.error)} onRetry={() => void query.refetch()} />
      ) : events.length === 0 ? (
        <EmptyState title="No recorded activity for this image" />
      ) : (
        <>
          <ol
            data-testid="image-history"
            className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900"
          >
            {events.map((e) => {
              const { text, note } = describeForImage(e, imageId);
              return (
                <li
                  key={e.id}
                  data-testid="image-history-item"
                  data-action={e.action}
                  className="flex flex-wrap items-baseline gap-x-2 gap-y-0.5 px-3 py-2 text-sm"
                >
                  <span className="font-medium">{text}</span>
                  <time dateTime={e.at.toISOString()} title={formatDateTime(e.at)} className="text-slate-500 dark:text-slate-400">
                    {formatRelative(e.at)}
                  </time>
                  {e.result !== "ok" ? <Badge tone={e.result === "denied" ? "warning" : "danger"}>{e.result}</Badge> : null}
                  {note ? <span className="font-mono text-xs break-all text-slate-600 dark:text-slate-400">{note}</span> : null}
                  <span className="ml-auto text-xs text-slate-400">via {e.interface}</span>
                </li>
              );
            })}
          </ol>
          {query.error ? <ErrorState className="mt-3" title="Could not load more" message={errorMessage(query.error)} /> : null}
          {query.hasNextPage ? (
            <div className="mt-3 flex justify-center">
              <Button onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage} data-testid="image-history-more">
                Show older
              </Button>
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}
