"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { PageHeader } from "~/components/shell/app-shell";
import { Card, CardHeader, EmptyState, ErrorState, Skeleton, Stat, Table, TableSkeleton, TBody, Td, Th, THead, Tr } from "~/components/ui";
import { errorMessage, formatBytes, formatRelative, shortId } from "~/lib/format";
import { imageHref, isDangling, type DiskUsageRow } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

/** The per-image table shows the largest images only: a store can hold thousands. */
const PER_IMAGE_LIMIT = 50;
/** References listed per image before "and N more". */
const MAX_REFS = 4;

/** Long repository names keep their end (the part that tells them apart) on the chart axis. */
function shortRepository(name: string): string {
  return name.length > 30 ? `…${name.slice(-29)}` : name;
}

interface ImageUsage {
  id: string;
  refs: string[];
  created: Date | null;
  size: number;
  shared: number;
  unique: number;
}

/** One entry per image ID (the list has one row per tag). */
function byImage(rows: DiskUsageRow[]): ImageUsage[] {
  const map = new Map<string, ImageUsage>();
  for (const r of rows) {
    const entry = map.get(r.id) ?? {
      id: r.id,
      refs: [],
      created: r.created,
      size: r.size,
      shared: r.sharedSize,
      unique: r.uniqueSize,
    };
    if (!isDangling(r)) entry.refs.push(`${r.repository}:${r.tag}`);
    map.set(r.id, entry);
  }
  return [...map.values()].sort((a, b) => b.size - a.size);
}

/** Per repository: unique bytes of its images, and bytes it shares with other images. */
function byRepository(rows: DiskUsageRow[]) {
  const repos = new Map<string, { repository: string; ids: Set<string>; unique: number; shared: number }>();
  for (const r of rows) {
    const key = isDangling(r) ? "<none>" : r.repository;
    const entry = repos.get(key) ?? { repository: key, ids: new Set<string>(), unique: 0, shared: 0 };
    if (!entry.ids.has(r.id)) {
      entry.ids.add(r.id);
      entry.unique += r.uniqueSize;
      entry.shared += r.sharedSize;
    }
    repos.set(key, entry);
  }
  return [...repos.values()]
    .map(({ repository, unique, shared, ids }) => ({ repository, unique, shared, images: ids.size }))
    .sort((a, b) => b.unique + b.shared - (a.unique + a.shared))
    .slice(0, 15);
}

export default function DiskUsagePage() {
  const trpc = useTRPC();
  // `docker system df -v`: the totals plus one row per image and tag, with shared and unique bytes.
  const df = useQuery(trpc.system.df.queryOptions({ verbose: true }));

  const rows = useMemo(() => df.data?.rows ?? [], [df.data]);
  const images = useMemo(() => byImage(rows), [rows]);
  const repos = useMemo(() => byRepository(rows), [rows]);
  const totals = useMemo(() => {
    const t = df.data?.images;
    return {
      total: t?.total ?? null,
      active: t?.active ?? 0,
      size: t?.size ?? null,
      reclaimable: t?.reclaimable ?? null,
    };
  }, [df.data]);
  const largest = images.slice(0, PER_IMAGE_LIMIT);
  const reclaimablePct =
    totals.size && totals.reclaimable !== null ? ` (${Math.round((totals.reclaimable / Math.max(totals.size, 1)) * 100)}%)` : "";

  return (
    <>
      <PageHeader title="Disk usage" description="Space the image store uses, like docker system df." />

      {df.error ? (
        <ErrorState className="mb-4" title="Could not read disk usage" message={errorMessage(df.error)} onRetry={() => void df.refetch()} />
      ) : null}

      <div className="grid grid-cols-2 gap-3 lg:grid-cols-4" data-testid="df-totals">
        {df.isPending ? (
          Array.from({ length: 4 }, (_, i) => <Skeleton key={i} className="h-24" />)
        ) : (
          <>
            <Stat label="Images" value={totals.total ?? "—"} testId="df-total" />
            <Stat label="Active" value={totals.active ?? "—"} hint="tagged images" />
            <Stat label="Size" value={formatBytes(totals.size)} hint="layers stored once" testId="df-size" />
            <Stat
              label="Reclaimable"
              value={formatBytes(totals.reclaimable)}
              hint={reclaimablePct.trim() || "not used by any tagged image"}
            />
          </>
        )}
      </div>

      <Card className="mt-4">
        <CardHeader
          title="Space per repository"
          description="Unique bytes are freed by removing the repository's images; shared bytes are layers other images use too."
        />
        {df.isPending ? (
          <Skeleton className="h-64" />
        ) : df.error ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">Not available.</p>
        ) : repos.length === 0 ? (
          <EmptyState title="No images stored" />
        ) : (
          <div className="h-72 w-full text-slate-500 dark:text-slate-400" data-testid="df-chart">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={repos} layout="vertical" margin={{ left: 8, right: 16, top: 4, bottom: 4 }}>
                <CartesianGrid strokeDasharray="3 3" horizontal={false} stroke="currentColor" strokeOpacity={0.2} />
                <XAxis type="number" tickFormatter={(v: number) => formatBytes(v)} stroke="currentColor" fontSize={11} />
                <YAxis
                  type="category"
                  dataKey="repository"
                  width={190}
                  stroke="currentColor"
                  fontSize={11}
                  interval={0}
                  tickFormatter={shortRepository}
                />
                <Tooltip
                  formatter={(value) => formatBytes(value)}
                  contentStyle={{
                    fontSize: 12,
                    borderRadius: 6,
                    background: "var(--chart-tooltip-bg)",
                    borderColor: "var(--chart-tooltip-border)",
                  }}
                  labelStyle={{ color: "var(--chart-tooltip-fg)" }}
                  cursor={{ fill: "currentColor", fillOpacity: 0.06 }}
                />
                <Legend wrapperStyle={{ fontSize: 12 }} />
                <Bar dataKey="unique" name="Unique" stackId="a" fill="#0284c7" />
                <Bar dataKey="shared" name="Shared" stackId="a" fill="#94a3b8" />
              </BarChart>
            </ResponsiveContainer>
          </div>
        )}
      </Card>

      <section className="mt-6" aria-labelledby="per-image">
        <h2 id="per-image" className="mb-2 text-sm font-semibold">
          Per image{" "}
          {images.length > PER_IMAGE_LIMIT ? (
            <span className="font-normal text-slate-500 dark:text-slate-400">
              (largest {PER_IMAGE_LIMIT} of {images.length.toLocaleString("en")})
            </span>
          ) : null}
        </h2>
        {df.isPending ? (
          <TableSkeleton rows={4} />
        ) : df.error ? null : images.length === 0 ? (
          <EmptyState title="No images stored" />
        ) : (
          <Table data-testid="df-images">
            <THead>
              <tr>
                <Th>Image ID</Th>
                <Th>References</Th>
                <Th>Created</Th>
                <Th className="text-right">Size</Th>
                <Th className="text-right">Shared</Th>
                <Th className="text-right">Unique</Th>
              </tr>
            </THead>
            <TBody>
              {largest.map((img) => (
                <Tr key={img.id}>
                  <Td className="font-mono text-xs">
                    <Link href={imageHref(img.id)} className="text-sky-700 hover:underline dark:text-sky-400">
                      {shortId(img.id)}
                    </Link>
                  </Td>
                  <Td className="text-xs" title={img.refs.length > MAX_REFS ? img.refs.join("\n") : undefined}>
                    {img.refs.length ? (
                      <>
                        {img.refs.slice(0, MAX_REFS).join(", ")}
                        {img.refs.length > MAX_REFS ? (
                          <span className="text-slate-500 dark:text-slate-400"> and {img.refs.length - MAX_REFS} more</span>
                        ) : null}
                      </>
                    ) : (
                      <span className="text-slate-400">&lt;none&gt;</span>
                    )}
                  </Td>
                  <Td className="whitespace-nowrap">{formatRelative(img.created)}</Td>
                  <Td className="text-right tabular-nums">{formatBytes(img.size)}</Td>
                  <Td className="text-right text-slate-500 tabular-nums">{formatBytes(img.shared)}</Td>
                  <Td className="text-right tabular-nums">{formatBytes(img.unique)}</Td>
                </Tr>
              ))}
            </TBody>
          </Table>
        )}
      </section>
    </>
  );
}
