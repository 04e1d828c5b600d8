"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
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
import { imageHref, isDangling, rowReference, toImageRows, type ImageRow } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

type Tab = "all" | "tagged" | "dangling";
type Column = "repository" | "tag" | "id" | "created" | "size" | "sharedSize" | "uniqueSize";

function compare(a: ImageRow, b: ImageRow, column: Column): number {
  switch (column) {
    case "created":
      return (a.created?.getTime() ?? 0) - (b.created?.getTime() ?? 0);
    case "size":
    case "sharedSize":
    case "uniqueSize":
      return (a[column] ?? 0) - (b[column] ?? 0);
    default:
      return a[column].localeCompare(b[column]);
  }
}

export default function ImagesPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const list = useQuery(trpc.images.list.queryOptions({ all: false, filters: {} }));
  const [tab, setTab] = useState<Tab>("all");
  const [search, setSearch] = useState("");
  const [sort, setSort] = useState<{ column: Column; dir: "asc" | "desc" }>({ column: "created", dir: "desc" });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [removeOpen, setRemoveOpen] = useState(false);
  const [pruneOpen, setPruneOpen] = useState(false);

  const rows = useMemo(() => toImageRows(list.data), [list.data]);
  const counts = useMemo(
    () => ({ all: rows.length, tagged: rows.filter((r) => !isDangling(r)).length, dangling: rows.filter(isDangling).length }),
    [rows],
  );
  const visible = useMemo(() => {
    const q = search.trim().toLowerCase();
    const filtered = rows.filter((r) => {
      if (tab === "tagged" && isDangling(r)) return false;
      if (tab === "dangling" && !isDangling(r)) return false;
      if (!q) return true;
      return (
        r.repository.toLowerCase().includes(q) ||
        r.tag.toLowerCase().includes(q) ||
        r.id.replace(/^sha256:/, "").startsWith(q.replace(/^sha256:/, "")) ||
        `${r.repository}:${r.tag}`.toLowerCase().includes(q)
      );
    });
    const sign = sort.dir === "asc" ? 1 : -1;
    return filtered.sort((a, b) => sign * compare(a, b, sort.column) || a.key.localeCompare(b.key));
  }, [rows, tab, search, sort]);

  const selectedRefs = rows.filter((r) => selected.has(r.key)).map(rowReference);
  const allVisibleSelected = visible.length > 0 && visible.every((r) => selected.has(r.key));

  function toggle(key: string) {
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  }

  function onSort(column: Column) {
    setSort((prev) =>
      prev.column === column
        ? { column, dir: prev.dir === "asc" ? "desc" : "asc" }
        : { column, dir: column === "repository" || column === "tag" ? "asc" : "desc" },
    );
  }

  return (
    <>
      <PageHeader
        title="Images"
        description="Every image in the shared store."
        actions={
          <>
            <ButtonLink href="/load" variant="secondary" data-testid="images-load-link">
              Load
            </ButtonLink>
            <Button onClick={() => setPruneOpen(true)} data-testid="images-prune">
              Prune…
            </Button>
            <Button
              variant="danger"
              disabled={selectedRefs.length === 0}
              onClick={() => setRemoveOpen(true)}
              data-testid="images-remove"
            >
              Remove{selectedRefs.length ? ` (${selectedRefs.length})` : ""}
            </Button>
          </>
        }
      />

      <div className="mb-3 flex flex-wrap items-center justify-between gap-3">
        <div role="tablist" aria-label="Filter images" className="inline-flex rounded-lg bg-slate-100 p-0.5 dark:bg-slate-800">
          {(["all", "tagged", "dangling"] as const).map((t) => (
            <button
              key={t}
              role="tab"
              type="button"
              aria-selected={tab === t}
              data-testid={`images-tab-${t}`}
              onClick={() => setTab(t)}
              className={cn(
                "rounded-md px-3 py-1.5 text-sm font-medium capitalize",
                tab === t
                  ? "bg-white text-slate-900 shadow-sm dark:bg-slate-950 dark:text-slate-100"
                  : "text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100",
              )}
            >
              {t} <span className="text-xs text-slate-400 tabular-nums">{list.isSuccess ? counts[t] : ""}</span>
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
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="images-search"
          />
        </div>
      </div>

      {list.isPending ? (
        <TableSkeleton rows={6} />
      ) : list.error ? (
        <ErrorState title="Could not list images" message={errorMessage(list.error)} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 ? (
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
      ) : visible.length === 0 ? (
        <EmptyState title="No images match">Try another search or filter.</EmptyState>
      ) : (
        <Table data-testid="images-table">
          <THead>
            <tr>
              <Th className="w-8">
                <input
                  type="checkbox"
                  aria-label="Select all shown images"
                  className="size-4 accent-sky-600"
                  checked={allVisibleSelected}
                  onChange={() =>
                    setSelected((prev) => {
                      const next = new Set(prev);
                      for (const r of visible) {
                        if (allVisibleSelected) next.delete(r.key);
                        else next.add(r.key);
                      }
                      return next;
                    })
                  }
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
          <TBody>
            {visible.map((r) => (
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
                <Td className="font-medium">
                  {r.repository === "<none>" ? <span className="text-slate-400">&lt;none&gt;</span> : (
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
                <Td className="text-right tabular-nums">{formatBytes(r.size)}</Td>
                <Td className="text-right text-slate-500 tabular-nums dark:text-slate-400">{formatBytes(r.sharedSize)}</Td>
                <Td className="text-right text-slate-500 tabular-nums dark:text-slate-400">{formatBytes(r.uniqueSize)}</Td>
              </Tr>
            ))}
          </TBody>
        </Table>
      )}

      <RemoveDialog
        refs={selectedRefs}
        open={removeOpen}
        onClose={() => setRemoveOpen(false)}
        onDone={() => setSelected(new Set())}
      />
      <PruneDialog open={pruneOpen} onClose={() => setPruneOpen(false)} />
    </>
  );
}
