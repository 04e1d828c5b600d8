/**
 * View models the pages render, built from whatever the API returns. The API's output
 * types are still settling, so each normaliser accepts unknown input and falls back to
 * sensible defaults instead of crashing the page.
 */
import { asDate, asNumber, asString } from "./format";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const pick = (o: Obj, ...keys: string[]): unknown => {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
};

export const NONE = "<none>";

export interface ImageRow {
  /** Unique per row: id + reference. */
  key: string;
  repository: string;
  tag: string;
  id: string;
  digest: string;
  created: Date | null;
  size: number | null;
  sharedSize: number | null;
  uniqueSize: number | null;
  labels: Record<string, string>;
  containers: number | null;
}

export function isDangling(row: Pick<ImageRow, "repository" | "tag">): boolean {
  return row.repository === NONE || row.tag === NONE;
}

/** `repo:tag` for a tagged row, else the image ID. */
export function rowReference(row: ImageRow): string {
  return isDangling(row) ? row.id : `${row.repository}:${row.tag}`;
}

export function toImageRows(data: unknown): ImageRow[] {
  const list = Array.isArray(data) ? data : arr(pick(obj(data), "images", "rows", "items"));
  return list.map((raw) => {
    const r = obj(raw);
    const repository = asString(pick(r, "repository", "Repository")) || NONE;
    const tag = asString(pick(r, "tag", "Tag")) || NONE;
    const id = asString(pick(r, "id", "ID", "Id"));
    return {
      key: `${id}|${repository}|${tag}`,
      repository,
      tag,
      id,
      digest: asString(pick(r, "digest", "Digest")) || NONE,
      created: asDate(pick(r, "created", "Created", "CreatedAt")),
      size: asNumber(pick(r, "size", "Size")),
      sharedSize: asNumber(pick(r, "sharedSize", "SharedSize")),
      uniqueSize: asNumber(pick(r, "uniqueSize", "UniqueSize")),
      labels: Object.fromEntries(Object.entries(obj(pick(r, "labels", "Labels"))).map(([k, v]) => [k, asString(v)])),
      containers: asNumber(pick(r, "containers", "Containers")),
    };
  });
}

/** Splits "registry:5000/ns/repo:tag" into repository and tag (digest references keep tag ""). */
export function splitReference(ref: string): { repository: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { repository: ref.slice(0, at), tag: "" };
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref, tag: "latest" };
}

export interface InspectView {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: Date | null;
  size: number | null;
  architecture: string;
  os: string;
  variant: string;
  author: string;
  labels: Record<string, string>;
  env: string[];
  cmd: string[];
  entrypoint: string[];
  workingDir: string;
  user: string;
  exposedPorts: string[];
  layers: string[];
  raw: unknown;
}

export function toInspectView(raw: unknown): InspectView {
  const r = obj(raw);
  const config = obj(pick(r, "Config", "config"));
  const rootfs = obj(pick(r, "RootFS", "rootfs"));
  const strings = (v: unknown) => arr(v).map(asString);
  return {
    id: asString(pick(r, "Id", "ID", "id")),
    repoTags: strings(pick(r, "RepoTags", "repoTags")),
    repoDigests: strings(pick(r, "RepoDigests", "repoDigests")),
    created: asDate(pick(r, "Created", "created")),
    size: asNumber(pick(r, "Size", "size")),
    architecture: asString(pick(r, "Architecture", "architecture")),
    os: asString(pick(r, "Os", "OS", "os")),
    variant: asString(pick(r, "Variant", "variant")),
    author: asString(pick(r, "Author", "author")),
    labels: Object.fromEntries(Object.entries(obj(pick(config, "Labels", "labels"))).map(([k, v]) => [k, asString(v)])),
    env: strings(pick(config, "Env")),
    cmd: strings(pick(config, "Cmd")),
    entrypoint: strings(pick(config, "Entrypoint")),
    workingDir: asString(pick(config, "WorkingDir")),
    user: asString(pick(config, "User")),
    exposedPorts: Object.keys(obj(pick(config, "ExposedPorts"))),
    layers: strings(pick(rootfs, "Layers", "layers", "diff_ids")),
    raw,
  };
}

export interface HistoryRow {
  id: string;
  created: Date | null;
  createdBy: string;
  size: number | null;
  comment: string;
  tags: string[];
  /** True/false when the API says; null when it does not. */
  emptyLayer: boolean | null;
}

export function toHistoryRows(data: unknown): HistoryRow[] {
  const list = Array.isArray(data) ? data : arr(pick(obj(data), "history", "entries", "items"));
  return list.map((raw) => {
    const r = obj(raw);
    const empty = pick(r, "emptyLayer", "empty_layer", "EmptyLayer");
    return {
      id: asString(pick(r, "Id", "id", "ID")) || "<missing>",
      created: asDate(pick(r, "Created", "created", "CreatedAt")),
      createdBy: asString(pick(r, "CreatedBy", "createdBy", "created_by")),
      size: asNumber(pick(r, "Size", "size")),
      comment: asString(pick(r, "Comment", "comment")),
      tags: arr(pick(r, "Tags", "tags")).map(asString),
      emptyLayer: typeof empty === "boolean" ? empty : null,
    };
  });
}

/**
 * Pairs the config's diff_ids with layer sizes from the history (docker order: newest
 * first). Sizes are only attached when the non-empty history entries line up one-to-one.
 */
export function layersWithSizes(diffIds: string[], history: HistoryRow[]): { diffId: string; size: number | null }[] {
  const oldestFirst = [...history].reverse();
  const known = oldestFirst.every((h) => h.emptyLayer !== null);
  const layerEntries = known ? oldestFirst.filter((h) => !h.emptyLayer) : oldestFirst.filter((h) => (h.size ?? 0) > 0);
  const aligned = layerEntries.length === diffIds.length;
  return diffIds.map((diffId, i) => ({ diffId, size: aligned ? (layerEntries[i]?.size ?? null) : null }));
}

export interface AuditTarget {
  ref: string;
  digestBefore: string;
  digestAfter: string;
}

export interface AuditEvent {
  id: string;
  at: Date | null;
  actorName: string;
  action: string;
  result: string;
  error: string;
  interface: string;
  ip: string;
  userAgent: string;
  targets: AuditTarget[];
  details: unknown;
}

export function toAuditPage(data: unknown): { events: AuditEvent[]; nextCursor: string | null } {
  const o = obj(data);
  const list = Array.isArray(data) ? data : arr(pick(o, "events", "items"));
  const events = list.map((raw) => {
    const r = obj(raw);
    return {
      id: asString(pick(r, "id")),
      at: asDate(pick(r, "at", "createdAt", "time")),
      actorName: asString(pick(r, "actorName", "actor", "username")),
      action: asString(pick(r, "action")),
      result: asString(pick(r, "result")) || "ok",
      error: asString(pick(r, "error")),
      interface: asString(pick(r, "interface", "via")),
      ip: asString(pick(r, "ip")),
      userAgent: asString(pick(r, "userAgent")),
      targets: arr(pick(r, "targets")).map((t) => {
        const to = obj(t);
        return {
          ref: asString(pick(to, "ref")),
          digestBefore: asString(pick(to, "digestBefore")),
          digestAfter: asString(pick(to, "digestAfter")),
        };
      }),
      details: pick(r, "details") ?? null,
    };
  });
  const next = pick(o, "nextCursor");
  return { events, nextCursor: next === undefined || next === null || next === "" ? null : asString(next) };
}

export interface TokenRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date | null;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export function toTokenRows(data: unknown): TokenRow[] {
  const list = Array.isArray(data) ? data : arr(pick(obj(data), "tokens", "items"));
  return list.map((raw) => {
    const r = obj(raw);
    return {
      id: asString(pick(r, "id")),
      name: asString(pick(r, "name")),
      prefix: asString(pick(r, "tokenPrefix", "prefix")),
      createdAt: asDate(pick(r, "createdAt")),
      lastUsedAt: asDate(pick(r, "lastUsedAt")),
      expiresAt: asDate(pick(r, "expiresAt")),
      revokedAt: asDate(pick(r, "revokedAt")),
    };
  });
}

/** Lines like docker's: "Untagged: x", "Deleted: sha256:…", from remove/prune results. */
export function removalLines(data: unknown): { lines: string[]; errors: string[] } {
  const o = obj(data);
  const lines: string[] = [];
  const errors: string[] = [];
  for (const entry of arr(pick(o, "results"))) {
    const e = obj(entry);
    for (const item of arr(pick(e, "records", "items"))) {
      const it = obj(item);
      if (it.untagged !== undefined) lines.push(`Untagged: ${asString(it.untagged)}`);
      if (it.deleted !== undefined) lines.push(`Deleted: ${asString(it.deleted)}`);
    }
    const err = pick(e, "error");
    if (err) {
      const message = typeof err === "object" && typeof (err as Obj).message === "string" ? ((err as Obj).message as string) : asString(err);
      errors.push(`${asString(pick(e, "ref"))}: ${message}`.replace(/^: /, ""));
    }
  }
  for (const u of arr(pick(o, "untagged"))) lines.push(`Untagged: ${asString(u)}`);
  for (const d of arr(pick(o, "deleted"))) lines.push(`Deleted: ${asString(d)}`);
  for (const l of arr(pick(o, "lines"))) lines.push(asString(l));
  return { lines, errors };
}

export function pruneSummary(data: unknown): { untagged: string[]; deleted: string[]; spaceReclaimed: number | null } {
  const o = obj(data);
  return {
    untagged: arr(pick(o, "untagged")).map(asString),
    deleted: arr(pick(o, "deleted")).map(asString),
    spaceReclaimed: asNumber(pick(o, "spaceReclaimed", "SpaceReclaimed")),
  };
}

export interface DiskTotals {
  total: number | null;
  active: number | null;
  size: number | null;
  reclaimable: number | null;
}

/** Image totals from system.df, whichever of the likely shapes it has. */
export function toDiskTotals(data: unknown): DiskTotals {
  const o = obj(data);
  const imagesPart = pick(o, "images", "Images");
  // docker's `system df` summary: one row per type; ours may nest an object.
  const summaryRows = arr(pick(o, "summary", "rows"));
  const imageRow = obj(
    summaryRows.find((r) => /image/i.test(asString(pick(obj(r), "type", "Type")))) ??
      (Array.isArray(imagesPart) ? undefined : imagesPart),
  );
  const source = Object.keys(imageRow).length > 0 ? imageRow : o;
  return {
    total: asNumber(pick(source, "total", "totalCount", "TotalCount", "count")) ?? (Array.isArray(imagesPart) ? imagesPart.length : null),
    active: asNumber(pick(source, "active", "Active")),
    size: asNumber(pick(source, "size", "Size", "totalSize", "TotalSize", "layersSize", "LayersSize")),
    reclaimable: asNumber(pick(source, "reclaimable", "Reclaimable", "reclaimableSize")),
  };
}

/** The image page of an image ID (hex only: no colon in the path). */
export function imageHref(id: string): string {
  return `/images/${encodeURIComponent(id.replace(/^sha256:/, ""))}`;
}

/** The API reference for an /images/[id] path segment. */
export function refFromParam(param: string): string {
  const decoded = decodeURIComponent(param);
  return /^[a-f0-9]{64}$/.test(decoded) ? `sha256:${decoded}` : decoded;
}
