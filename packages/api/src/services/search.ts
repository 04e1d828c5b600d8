import {
  checkSearchLimit,
  familiarRepository,
  filterSearchResults,
  InvalidArgumentError,
  normalizedName,
  openSearchClient,
  parseSearchFilters,
  parseSearchTerm,
  searchRegistry,
  tryParseReference,
  type ImageRecord,
} from "@berth/engine";
import type { Context } from "../context";
import { registryAccess } from "./registry-access";

type Ctx = Pick<Context, "services">;

export interface RemoteSearchInput {
  term: string;
  /** The registry to search when the term names none (`docker.io` by default). */
  registry?: string;
  limit?: number;
  filters: Record<string, string[]>;
}

export interface RemoteSearchRow {
  name: string;
  description: string;
  starCount: number;
  isOfficial: boolean;
  isAutomated: boolean;
  /** Tags, when the registry was searched through its catalog. */
  tags: string[] | null;
  /** What to pull: `redis`, `127.0.0.1:5000/fixtures/app`. */
  ref: string;
  /** Some tag of this repository is in the store. */
  inStore: boolean;
}

/**
 * `docker search` on the server (the daemon's half): the term's registry, or the one chosen,
 * with the team's endpoint and credentials for it; docker's limit and filters applied here.
 */
export async function searchRemote(
  ctx: Ctx,
  input: RemoteSearchInput,
): Promise<{ registry: string; term: string; rows: RemoteSearchRow[] }> {
  const limit = checkSearchLimit(input.limit);
  const filters = parseSearchFilters(input.filters);
  const chosen = input.registry?.trim() ? parseRegistry(input.registry.trim()) : undefined;
  const named = parseSearchTerm(input.term);
  // As in docker, a registry named in the term wins; the chosen one stands in for docker.io's default.
  const termNamesRegistry = named.domain !== "docker.io" || /^(index\.|registry-1\.)?docker\.io\//i.test(input.term.trim());
  const domain = termNamesRegistry ? named.domain : (chosen ?? named.domain);
  const access = await registryAccess(ctx.services, domain);
  const client = openSearchClient(domain, access.origin, "berth");
  let found;
  try {
    found = await searchRegistry(client, named.term, { limit });
  } finally {
    client.close();
  }
  const local = new Set((await ctx.services.reads.listTags()).map((t) => t.repository));
  const rows = filterSearchResults(found, filters).map((r): RemoteSearchRow => {
    const ref = domain === "docker.io" ? r.name : `${domain}/${r.name}`;
    const parsed = tryParseReference(ref);
    return {
      name: r.name,
      description: r.description,
      starCount: r.starCount,
      isOfficial: r.isOfficial,
      isAutomated: r.isAutomated,
      tags: r.tags ?? null,
      ref,
      inStore: parsed !== undefined && local.has(normalizedName(parsed)),
    };
  });
  return { registry: domain, term: named.term, rows };
}

/** A registry as the dashboard's selector gives it: `docker.io`, `host:port` (no scheme, no path). */
function parseRegistry(value: string): string {
  const probe = parseSearchTerm(`${value}/x`);
  if (probe.term !== "x" || (probe.domain === "docker.io" && !/^(index\.|registry-1\.)?docker\.io$/i.test(value))) {
    throw new InvalidArgumentError(`invalid registry "${value}": expected a host[:port] such as docker.io or 127.0.0.1:5000`);
  }
  return probe.domain;
}

export type MatchedOn = "repository" | "tag" | "label";

export interface LocalSearchRow {
  /** Familiar form (`fixtures/app`, `redis`), `<none>` for an untagged image. */
  repository: string;
  tag: string;
  imageId: string;
  size: number;
  matchedOn: MatchedOn;
  /** The label that matched, for `label` rows. */
  label: { key: string; value: string } | null;
}

/**
 * Search of the store: tags whose repository or tag contains the term, and images whose label
 * keys or values do (case-insensitive). One row per tag (an untagged image is `<none>:<none>`).
 */
export async function searchLocal(ctx: Ctx, input: { term: string; limit: number }): Promise<{ rows: LocalSearchRow[]; total: number }> {
  const needle = input.term.trim().toLowerCase();
  if (!needle) throw new InvalidArgumentError("a search term is required");
  const [tags, images] = await Promise.all([ctx.services.reads.listTags(), ctx.services.reads.listImages()]);
  const byId = new Map<string, ImageRecord>(images.map((i) => [i.id.toString(), i]));
  const labelMatch = (image: ImageRecord | undefined) => {
    for (const [key, value] of Object.entries(image?.labels ?? {})) {
      if (key.toLowerCase().includes(needle) || value.toLowerCase().includes(needle)) return { key, value };
    }
    return null;
  };
  const rows: LocalSearchRow[] = [];
  const tagged = new Set<string>();
  for (const t of tags) {
    const id = t.imageId.toString();
    tagged.add(id);
    const repository = familiarRepository(t.repository);
    const image = byId.get(id);
    let matchedOn: MatchedOn | undefined;
    let label: LocalSearchRow["label"] = null;
    if (repository.toLowerCase().includes(needle) || t.repository.toLowerCase().includes(needle)) matchedOn = "repository";
    else if (t.tag.toLowerCase().includes(needle) || `${repository}:${t.tag}`.toLowerCase().includes(needle)) matchedOn = "tag";
    else if ((label = labelMatch(image))) matchedOn = "label";
    if (matchedOn) rows.push({ repository, tag: t.tag, imageId: id, size: image?.size ?? 0, matchedOn, label });
  }
  for (const image of images) {
    const label = tagged.has(image.id.toString()) ? null : labelMatch(image);
    if (label)
      rows.push({ repository: "<none>", tag: "<none>", imageId: image.id.toString(), size: image.size, matchedOn: "label", label });
  }
  const order: Record<MatchedOn, number> = { repository: 0, tag: 1, label: 2 };
  rows.sort((a, b) => order[a.matchedOn] - order[b.matchedOn] || (a.repository + ":" + a.tag).localeCompare(b.repository + ":" + b.tag));
  return { rows: rows.slice(0, input.limit), total: rows.length };
}
