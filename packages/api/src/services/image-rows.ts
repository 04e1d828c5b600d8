import { listImages, type ImageListRow } from "@berth/engine";
import type { Context, Services } from "../context";

type Ctx = Pick<Context, "services">;
type ListOptions = { all: boolean; filters: Record<string, string[]>; reference?: string };

export type ImageSortColumn = "repository" | "tag" | "id" | "created" | "size" | "sharedSize" | "uniqueSize";
export interface ImagePageQuery {
  search: string;
  show: "all" | "tagged" | "dangling";
  sort: { column: ImageSortColumn; dir: "asc" | "desc" };
  offset: number;
  limit: number;
}

interface CacheEntry {
  version: bigint;
  rows: Promise<ImageListRow[]>;
  sorted: Map<string, ImageListRow[]>;
}

/**
 * `docker images` rows are derived from the whole store; with thousands of images that takes
 * far longer than a page view should. Rows are kept per store version (which every change
 * bumps in its own transaction) and per query, so repeated views cost one version read.
 */
const caches = new WeakMap<Services, Map<string, CacheEntry>>();
const MAX_QUERIES = 16;

async function entryFor(ctx: Ctx, opts: ListOptions): Promise<CacheEntry> {
  const version = await ctx.services.reads.version();
  let cache = caches.get(ctx.services);
  if (!cache) {
    cache = new Map<string, CacheEntry>();
    caches.set(ctx.services, cache);
  }
  const key = JSON.stringify([opts.all, opts.reference ?? null, Object.entries(opts.filters).sort()]);
  const hit = cache.get(key);
  if (hit && hit.version === version) return hit;
  const entry: CacheEntry = { version, rows: listImages({ ...opts, meta: ctx.services.reads }), sorted: new Map() };
  entry.rows.catch(() => cache.get(key) === entry && cache.delete(key));
  cache.delete(key);
  cache.set(key, entry);
  if (cache.size > MAX_QUERIES) cache.delete(cache.keys().next().value!);
  return entry;
}

/** The rows of `docker images` with these options (newest first). */
export async function listImageRows(ctx: Ctx, opts: ListOptions): Promise<ImageListRow[]> {
  // `until=24h` is relative to now: its answer changes without the store changing.
  if (opts.filters.until?.length) return listImages({ ...opts, meta: ctx.services.reads });
  return (await entryFor(ctx, opts)).rows;
}

const isDangling = (r: ImageListRow) => r.repository === "<none>" && r.tag === "<none>";

function compare(column: ImageSortColumn): (a: ImageListRow, b: ImageListRow) => number {
  switch (column) {
    case "created":
      return (a, b) => (a.created?.getTime() ?? 0) - (b.created?.getTime() ?? 0);
    case "size":
    case "sharedSize":
    case "uniqueSize":
      return (a, b) => a[column] - b[column];
    default:
      return (a, b) => (a[column] < b[column] ? -1 : a[column] > b[column] ? 1 : 0);
  }
}

/** One page of the dashboard's image table: searched, filtered and sorted on the server. */
export async function pageImageRows(ctx: Ctx, query: ImagePageQuery) {
  const entry = await entryFor(ctx, { all: false, filters: {} });
  const rows = await entry.rows;
  const sortKey = `${query.sort.column}:${query.sort.dir}`;
  let sorted = entry.sorted.get(sortKey);
  if (!sorted) {
    const by = compare(query.sort.column);
    const sign = query.sort.dir === "asc" ? 1 : -1;
    const tie = (a: ImageListRow, b: ImageListRow) =>
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || (a.repository + a.tag < b.repository + b.tag ? -1 : 1);
    sorted = [...rows].sort((a, b) => sign * by(a, b) || tie(a, b));
    entry.sorted.set(sortKey, sorted);
  }
  const q = query.search.trim().toLowerCase();
  const idPrefix = q.replace(/^sha256:/, "");
  const matches = (r: ImageListRow) => !q || `${r.repository}:${r.tag}`.toLowerCase().includes(q) || r.id.slice(7).startsWith(idPrefix);
  const counts = { all: 0, tagged: 0, dangling: 0 };
  const selected: ImageListRow[] = [];
  for (const row of sorted) {
    if (!matches(row)) continue;
    const dangling = isDangling(row);
    counts.all++;
    counts[dangling ? "dangling" : "tagged"]++;
    if (query.show === "all" || (query.show === "dangling") === dangling) selected.push(row);
  }
  return { rows: selected.slice(query.offset, query.offset + query.limit), total: selected.length, counts };
}
