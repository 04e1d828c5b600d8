"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useMemo } from "react";
import { ArchiveRange } from "~/components/audit/archive-range";
import { AuditFilters } from "~/components/audit/audit-filters";
import { AuditTable } from "~/components/audit/audit-table";
import { VerifyChain } from "~/components/audit/verify-chain";
import { PageHeader } from "~/components/shell/app-shell";
import { Button, ButtonLink, EmptyState, ErrorState, TableSkeleton } from "~/components/ui";
import { filtersFromParams, filtersToInput, filtersToParams, hasFilters, type AuditFilterValues } from "~/lib/audit-filters";
import { errorMessage } from "~/lib/format";
import { toAuditEvents } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

const PAGE = 50;
/** Short pages read on their own before the page waits for "Load more". */
const AUTO_PAGES = 20;

export default function AuditPage() {
  // useSearchParams needs a Suspense boundary for the static shell Next.js renders first.
  return (
    <Suspense fallback={<TableSkeleton rows={8} />}>
      <AuditLog />
    </Suspense>
  );
}

function AuditLog() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const search = searchParams.toString();
  const applied = useMemo(() => filtersFromParams(new URLSearchParams(search)), [search]);
  const apply = (values: AuditFilterValues) => {
    const query = filtersToParams(values);
    router.push(query ? `${pathname}?${query}` : pathname);
  };

  const query = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      { ...filtersToInput(applied), limit: PAGE },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const events = useMemo(() => (query.data?.pages ?? []).flatMap((p) => toAuditEvents(p)), [query.data]);
  const filtered = hasFilters(applied);
  // A search among large filters reads a bounded part of the log per page, so a page can come back
  // short (even empty) with more to read: keep reading, up to a point, until a page is full.
  const pages = query.data?.pages ?? [];
  const lastShort = (pages.at(-1)?.events.length ?? PAGE) < PAGE;
  const searching = lastShort && query.hasNextPage && pages.length < AUTO_PAGES;
  const { fetchNextPage, isFetching } = query;
  useEffect(() => {
    if (searching && !isFetching) void fetchNextPage();
  }, [searching, isFetching, fetchNextPage]);
  const exportHref = (format: "csv" | "jsonl") => `/api/audit/export?${filtersToParams(applied, { format })}`;

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Who did what, newest first. Every change and every refusal, hash-chained."
        actions={
          <>
            <ButtonLink href={exportHref("csv")} external download variant="secondary" data-testid="audit-export-csv">
              Export CSV
            </ButtonLink>
            <ButtonLink href={exportHref("jsonl")} external download variant="secondary" data-testid="audit-export-jsonl">
              Export JSON Lines
            </ButtonLink>
            <ArchiveRange from={applied.from} to={applied.to} />
          </>
        }
      />

      <AuditFilters key={search} applied={applied} onApply={apply} />

      <div className="mb-3">
        <VerifyChain />
      </div>

      {query.isPending || (events.length === 0 && searching) ? (
        <TableSkeleton rows={8} />
      ) : query.error && events.length === 0 ? (
        <ErrorState title="Could not load the audit log" message={errorMessage(query.error)} onRetry={() => void query.refetch()} />
      ) : events.length === 0 && query.hasNextPage ? (
        <EmptyState
          title="No matching events in the newest part of the log"
          action={
            <Button onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage} data-testid="audit-search-further">
              Search further back
            </Button>
          }
        />
      ) : events.length === 0 ? (
        <EmptyState title={filtered ? "No events match these filters" : "No events recorded yet"} />
      ) : (
        <>
          <AuditTable events={events} />
          {query.error ? <ErrorState className="mt-3" title="Could not load more" message={errorMessage(query.error)} /> : null}
          <div className="mt-4 flex items-center justify-center gap-3 text-sm text-slate-500">
            <span>{events.length} events</span>
            {query.hasNextPage ? (
              <Button onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage} data-testid="audit-load-more">
                Load more
              </Button>
            ) : null}
          </div>
        </>
      )}
    </>
  );
}
