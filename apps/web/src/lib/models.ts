/** View models the pages render, built from the API's typed outputs. */
import type { RouterOutputs } from "@berth/api";
import { asDate } from "./format";

export const NONE = "<none>";

type ImagesPageRow = RouterOutputs["images"]["page"]["rows"][number];
type ImageInspect = RouterOutputs["images"]["inspect"]["images"][number];
type ServerAuditEvent = RouterOutputs["audit"]["list"]["events"][number];

/** A row of the dashboard's image table. */
export type ImageRow = ImagesPageRow & {
  /** Unique per row: id + reference. */
  key: string;
};

/** A row of `system.df` with `verbose` (one per image and tag). */
export type DiskUsageRow = NonNullable<RouterOutputs["system"]["df"]["rows"]>[number];

export type HistoryRow = RouterOutputs["images"]["history"][number];

export type TokenRow = RouterOutputs["tokens"]["list"][number];

export function isDangling(row: { repository: string; tag: string }): boolean {
  return row.repository === NONE || row.tag === NONE;
}

/** `repo:tag` for a tagged row, else the image ID. */
export function rowReference(row: { repository: string; tag: string; id: string }): string {
  return isDangling(row) ? row.id : `${row.repository}:${row.tag}`;
}

export function toImageRows(rows: ImagesPageRow[] = []): ImageRow[] {
  return rows.map((r) => ({ ...r, key: `${r.id}|${r.repository}|${r.tag}` }));
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
  size: number;
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
  raw: ImageInspect;
}

/** `docker image inspect`'s object, with the nullable Config fields defaulted. */
export function toInspectView(raw: ImageInspect): InspectView {
  const config = raw.Config;
  return {
    id: raw.Id,
    repoTags: raw.RepoTags,
    repoDigests: raw.RepoDigests,
    // An RFC 3339 string, as docker prints it.
    created: asDate(raw.Created),
    size: raw.Size,
    architecture: raw.Architecture,
    os: raw.Os,
    variant: raw.Variant ?? "",
    author: raw.Author,
    labels: config?.Labels ?? {},
    env: config?.Env ?? [],
    cmd: config?.Cmd ?? [],
    entrypoint: config?.Entrypoint ?? [],
    workingDir: config?.WorkingDir ?? "",
    user: config?.User ?? "",
    exposedPorts: Object.keys(config?.ExposedPorts ?? {}),
    layers: raw.RootFS.Layers ?? [],
    raw,
  };
}

/**
 * Pairs the config's diff_ids with layer sizes from the history (docker order: newest
 * first). Sizes are only attached when the history entries that made a layer (size > 0)
 * line up one-to-one with the diff_ids.
 */
export function layersWithSizes(diffIds: string[], history: Pick<HistoryRow, "size">[]): { diffId: string; size: number | null }[] {
  const layerEntries = [...history].reverse().filter((h) => h.size > 0);
  const aligned = layerEntries.length === diffIds.length;
  return diffIds.map((diffId, i) => ({ diffId, size: aligned ? (layerEntries[i]?.size ?? null) : null }));
}

export interface AuditTarget {
  ref: string;
  /** `sha256:…`, or "" when the event names none. */
  digestBefore: string;
  digestAfter: string;
}

export type AuditEvent = Omit<ServerAuditEvent, "targets"> & { targets: AuditTarget[] };

/** Digests are typed as the engine's Digest but cross the wire as their `sha256:…` JSON form. */
const digestString = (digest: { toString(): string } | string | null): string => (digest === null ? "" : String(digest));

export function toAuditEvents(page: RouterOutputs["audit"]["list"] | undefined): AuditEvent[] {
  return (page?.events ?? []).map((e) => ({
    ...e,
    targets: e.targets.map((t) => ({
      ref: t.ref,
      digestBefore: digestString(t.digestBefore),
      digestAfter: digestString(t.digestAfter),
    })),
  }));
}

/** Lines like docker's: "Untagged: x", "Deleted: sha256:…", from a remove result. */
export function removalLines(data: RouterOutputs["images"]["remove"]): { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  for (const entry of data.results) {
    for (const item of entry.items) lines.push("untagged" in item ? `Untagged: ${item.untagged}` : `Deleted: ${item.deleted}`);
    if (entry.error) errors.push(`${entry.ref}: ${entry.error}`);
  }
  return { lines, errors };
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
