"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { Guarded } from "~/components/account/guarded";
import { PullDialog } from "~/components/jobs/pull-dialog";
import { PruneDialog } from "~/components/images/prune-dialog";
import { RemoveDialog } from "~/components/images/remove-dialog";
import { PageHeader } from "~/components/shell/app-shell";
import {
  Badge,
  Button,
  ButtonLink,
  cn,
  EmptyState,
  ErrorState,
  Input,
  SortTh,
  Table,
  TableSkeleton,
  TBody,
  Td,
  Th,
  THead,
  Tr,
} from "~/components/ui";
import { errorMessage, formatBytes, formatDateTime, formatRelative, shortId } from "~/lib/format";
import { imageHref, rowReference, toImageRows } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

type Tab = "all" | "tagged" | "dangling";
type Column = "repository" | "tag" | "id" | "created" | "size" | "sharedSize" | "uniqueSize";
type Sort = { column: Column; dir: "asc" | "desc" };

const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 250;
const numberFormat = new Intl.NumberFormat("en");

export default function ImagesPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const [tab, setTab] = useState<Tab>("all");
  const [searchInput, setSearchInput] = useState("");
  const [search, setSearch] = useState("");
  const [sort, setSort] = useState<Sort>({ column: "created", dir: "desc" });
  const [pageIndex, setPageIndex] = useState(0);
  // Selection belongs to the rows on screen: it is dropped when the page, search, tab or sort changes.
  const [selection, setSelection] = useState<{ view: string; keys: Set<string> }>({
    view: "",
    keys: new Set(),
  });
  const [removeOpen, setRemoveOpen] = useState(false);
  const [pruneOpen, setPruneOpen] = useState(false);
  const [pullOpen, setPullOpen] = useState(false);

  // Search runs on the server: wait until typing pauses.
  useEffect(() => {
    const next = searchInput.trim();
    if (next === search) return;
    const timer = setTimeout(() => {
      setSearch(next);
      setPageIndex(0);
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [searchInput, search]);

  const input = { search, show: tab, sort, offset: pageIndex * PAGE_SIZE, limit: PAGE_SIZE };
  const query = useQuery(trpc.images.page.queryOptions(input, { placeholderData: keepPreviousData }));
  const view = JSON.stringify(input);

  const rows = useMemo(() => toImageRows(query.data?.rows), [query.data]);
  const total = query.data?.total ?? 0;
  const counts = query.data?.counts;
  const pageCount = Math.max(1, Math.ceil(total / PAGE_SIZE));
  /** The rows shown are not yet the answer to what the user asked for (typing, or the next page loading). */
  const stale = searchInput.trim() !== search || query.isPlaceholderData;

  // Removing the last rows of the last page leaves an empty page: step back to the new last one.
  useEffect(() => {
    if (query.data && !query.isPlaceholderData && pageIndex > 0 && pageIndex >= pageCount) setPageIndex(pageCount - 1);
  }, [query.data, query.isPlaceholderData, pageIndex, pageCount]);

  const selected = selection.view === view ? selection.keys : new Set<string>();
  const selectedRefs = rows.filter((r) => selected.has(r.key)).map(rowReference);
  const allShownSelected = rows.length > 0 && rows.every((r) => selected.has(r.key));

  function toggle(key: string) {
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setSelection({ view, keys: next });
  }

  function toggleAll() {
    setSelection({ view, keys: allShownSelected ? new Set() : new Set(rows.map((r) => r.key)) });
  }

  function onTab(next: Tab) {
    setTab(next);
    setPageIndex(0);
  }

  function onSort(column: Column) {
    setSort((prev) =>
      prev.column === column
        ? { column, dir: prev.dir === "asc" ? "desc" : "asc" }
        : { column, dir: column === "repository" || column === "tag" ? "asc" : "desc" },
    );
    setPageIndex(0);
  }

  const first = total === 0 ? 0 : pageIndex * PAGE_SIZE + 1;
  const last = Math.min(total, pageIndex * PAGE_SIZE + rows.length);

  return (
    <>
      <PageHeader
        title="Images"
        description="Every image in the shared store."
        actions={
          <>
            <Guarded action="pull">
              {(ok) => (
                <Button variant="primary" disabled={!ok} onClick={() => setPullOpen(true)} data-testid="pull-open">
                  Pull…
                </Button>
              )}
            </Guarded>
            <Guarded action="load">
              {(ok) =>
                ok ? (
                  <ButtonLink href="/load" variant="secondary" data-testid="images-load-link">
                    Load
                  </ButtonLink>
                ) : (
                  <Button disabled>Load</Button>
                )
              }
            </Guarded>
            <Guarded action="prune">
              {(ok) => (
                <Button disabled={!ok} onClick={() => setPruneOpen(true)} data-testid="images-prune">
                  Prune…
                </Button>
              )}
            </Guarded>
            <Button
              variant="secondary"
              disabled={selectedRefs.length === 0}
              onClick={() => {
                // One archive with every selected image, shared layers once (`docker save a b`).
                window.location.href = `/api/images/save?${selectedRefs.map((r) => `ref=${encodeURIComponent(r)}`).join("&")}`;
              }}
              title="Download the selected images as one docker save archive"
              data-testid="images-save"
            >
              Download{selectedRefs.length ? ` (${selectedRefs.length})` : ""}
            </Button>
            <Guarded action="remove">
              {(ok) => (
                <Button
                  variant="danger"
                  disabled={!ok || selectedRefs.length === 0}
                  onClick={() => setRemoveOpen(true)}
                  data-testid="images-remove"
                >
                  Remove{selectedRefs.length ? ` (${selectedRefs.length})` : ""}
                </Button>
              )}
            </Guarded>
          </>
        }
      />

      <div className="mb-3 flex flex-wrap items-center justify-between gap-3">
        <div role="tablist" aria-label="Filter images" className="inline-flex rounded-lg bg-slate-200/70 p-0.5 dark:bg-slate-800">
          {(["all", "tagged", "dangling"] as const).map((t) => (
            <button
              key={t}
              role="tab"
              type="button"
              aria-selected={tab === t}
              data-testid={`images-tab-${t}`}
              onClick={() => onTab(t)}
              className={cn(
                "rounded-md px-3 py-1.5 text-sm font-medium capitalize",
                tab === t
                  ? "bg-white text-slate-900 shadow-sm dark:bg-slate-950 dark:text-slate-100"
                  : "text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100",
              )}
            >
              {t}{" "}
              <span className="text-xs text-slate-500 tabular-nums dark:text-slate-400">
                {counts ? numberFormat.format(counts[t]) : ""}
              </span>
            </button>
          ))}
        </div>
        <div className="w-full sm:w-72">
          <label htmlFor="image-search" className="sr-only">
            Search images
          </label>
          <Input
            id="image-search"
            type="search"
            placeholder="Search repository, tag or ID"
            value={searchInput}
            onChange={(e) => setSearchInput(e.target.value)}
            data-testid="images-search"
          />
        </div>
      </div>

      {query.isPending ? (
        <TableSkeleton rows={6} />
      ) : query.error && !query.data ? (
        <ErrorState title="Could not list images" message={errorMessage(query.error)} onRetry={() => void query.refetch()} />
      ) : !search && counts?.all === 0 ? (
        <EmptyState
          title="No images yet"
          action={
            <ButtonLink href="/load" variant="primary">
              Load an archive
            </ButtonLink>
          }
        >
          Load a <code>docker save</code> archive to get started, or push with the CLI.
        </EmptyState>
      ) : rows.length === 0 && !stale ? (
        <EmptyState title="No images match">Try another search or filter.</EmptyState>
      ) : (
        <>
          {query.error ? (
            <ErrorState
              className="mb-3"
              title="Could not list images"
              message={errorMessage(query.error)}
              onRetry={() => void query.refetch()}
            />
          ) : null}
          <Table data-testid="images-table" aria-busy={stale || undefined}>
            <THead>
              <tr>
                <Th className="w-8">
                  <input
                    type="checkbox"
                    aria-label="Select all shown images"
                    className="size-4 accent-sky-600"
                    checked={allShownSelected}
                    disabled={stale}
                    onChange={toggleAll}
                  />
                </Th>
                <SortTh label="Repository" column="repository" sort={sort} onSort={onSort} />
                <SortTh label="Tag" column="tag" sort={sort} onSort={onSort} />
                <SortTh label="Image ID" column="id" sort={sort} onSort={onSort} />
                <SortTh label="Created" column="created" sort={sort} onSort={onSort} />
                <SortTh label="Size" column="size" sort={sort} onSort={onSort} className="text-right" />
                <SortTh label="Shared" column="sharedSize" sort={sort} onSort={onSort} className="text-right" />
                <SortTh label="Unique" column="uniqueSize" sort={sort} onSort={onSort} className="text-right" />
              </tr>
            </THead>
            {/* Rows that answer an older question are dimmed and inert until the new answer arrives. */}
            <TBody className={cn("transition-opacity", stale && "pointer-events-none opacity-60")}>
              {rows.map((r) => (
                <Tr
                  key={r.key}
                  data-testid="image-row"
                  data-ref={rowReference(r)}
                  className={cn(
                    "cursor-pointer hover:bg-slate-50 dark:hover:bg-slate-800/50",
                    selected.has(r.key) && "bg-sky-50/60 dark:bg-sky-950/30",
                  )}
                  onClick={() => router.push(imageHref(r.id))}
                >
                  <Td onClick={(e) => e.stopPropagation()}>
                    <input
                      type="checkbox"
                      aria-label={`Select ${rowReference(r)}`}
                      className="size-4 accent-sky-600"
                      checked={selected.has(r.key)}
                      onChange={() => toggle(r.key)}
                    />
                  </Td>
                  <Td className="max-w-md font-medium break-all">
                    {r.repository === "<none>" ? (
                      <span className="text-slate-400">&lt;none&gt;</span>
                    ) : (
                      <a href={imageHref(r.id)} onClick={(e) => e.preventDefault()} className="hover:underline">
                        {r.repository}
                      </a>
                    )}
                  </Td>
                  <Td>{r.tag === "<none>" ? <Badge tone="warning">dangling</Badge> : <Badge tone="info">{r.tag}</Badge>}</Td>
                  <Td className="font-mono text-xs" title={r.id}>
                    {shortId(r.id)}
                  </Td>
                  <Td className="whitespace-nowrap" title={formatDateTime(r.created)}>
                    {formatRelative(r.created)}
                  </Td>
                  <Td className="text-right whitespace-nowrap tabular-nums">{formatBytes(r.size)}</Td>
                  <Td className="text-right whitespace-nowrap text-slate-500 tabular-nums dark:text-slate-400">
                    {formatBytes(r.sharedSize)}
                  </Td>
                  <Td className="text-right whitespace-nowrap text-slate-500 tabular-nums dark:text-slate-400">
                    {formatBytes(r.uniqueSize)}
                  </Td>
                </Tr>
              ))}
            </TBody>
          </Table>
          <nav
            aria-label="Pages"
            data-testid="images-pagination"
            className="mt-3 flex flex-wrap items-center justify-between gap-3 text-sm text-slate-600 dark:text-slate-400"
          >
            <p data-testid="images-range" aria-live="polite" className="tabular-nums">
              Showing {numberFormat.format(first)}–{numberFormat.format(last)} of {numberFormat.format(total)}
            </p>
            <div className="flex items-center gap-2">
              <span className="tabular-nums">
                Page {numberFormat.format(Math.min(pageIndex + 1, pageCount))} of {numberFormat.format(pageCount)}
              </span>
              <Button
                size="sm"
                disabled={pageIndex === 0}
                onClick={() => setPageIndex((p) => Math.max(0, p - 1))}
                data-testid="images-prev"
              >
                Previous
              </Button>
              <Button
                size="sm"
                disabled={pageIndex + 1 >= pageCount || query.isPlaceholderData}
                onClick={() => setPageIndex((p) => p + 1)}
                data-testid="images-next"
              >
                Next
              </Button>
            </div>
          </nav>
        </>
      )}

      <RemoveDialog
        refs={selectedRefs}
        open={removeOpen}
        onClose={() => setRemoveOpen(false)}
        onDone={() => setSelection({ view: "", keys: new Set() })}
      />
      <PruneDialog open={pruneOpen} onClose={() => setPruneOpen(false)} />
      <PullDialog open={pullOpen} onClose={() => setPullOpen(false)} />
    </>
  );
}
