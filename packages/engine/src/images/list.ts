import { InvalidArgumentError } from "../errors";
import type { MetadataStore } from "../metadata";
import { familiarRepository, matchReferencePattern, parseReference } from "../reference";
import { compareStrings, createdMs, hasChildren, loadGraph, repoDigests, tagsOf } from "./graph";
import { type FilterArgs, invalidFilter, matchKVList, parseTimestamp, validateFilters } from "./filters";
import { resolveImage } from "./resolve";
import { layerUsage, sharedAndUnique } from "./sizes";

/** One row of `docker images`: one per tag, `<none>` for untagged images. */
export interface ImageListRow {
  /** Familiar repository (`redis`, `fixtures/app`, `ghcr.io/org/app`) or `<none>`. */
  repository: string;
  tag: string;
  /** Full image ID, `sha256:…`. */
  id: string;
  /** Manifest digest the image arrived with, or `<none>`. */
  digest: string;
  created: Date | null;
  size: number;
  /** Bytes of layers (by diffId) that other images use too. */
  sharedSize: number;
  uniqueSize: number;
  labels: Record<string, string>;
}

export interface ListImagesOptions {
  meta: MetadataStore;
  /** `-a`: also intermediate images (untagged parents of other images). */
  all?: boolean;
  filters?: FilterArgs;
  /** The optional `REPOSITORY[:TAG]` argument; it is one more `reference=` pattern, as in docker. */
  reference?: string;
  now?: Date;
}

const ACCEPTED = ["dangling", "label", "before", "since", "reference", "until"];

/** `docker images`: rows newest first, following the daemon's filter rules. */
export async function listImages({ meta, all = false, filters = {}, reference, now }: ListImagesOptions): Promise<ImageListRow[]> {
  validateFilters(filters, ACCEPTED);
  let danglingOnly = false;
  const dangling = filters.dangling;
  if (dangling && dangling.length > 0) {
    if (dangling.length === 1 && dangling[0] === "true") danglingOnly = true;
    else if (!(dangling.length === 1 && dangling[0] === "false")) throw invalidFilter("dangling", dangling);
  }
  const patterns = [...(filters.reference ?? []), ...(reference !== undefined ? [reference] : [])];
  let before: number | undefined;
  let since: number | undefined;
  for (const value of filters.before ?? []) before = createdMs(await resolveImage({ meta, ref: value }));
  for (const value of filters.since ?? []) since = createdMs(await resolveImage({ meta, ref: value }));
  const untilValues = filters.until ?? [];
  if (untilValues.length > 1) throw new InvalidArgumentError("more than one until filter specified");
  const until = untilValues[0] !== undefined ? parseTimestamp(untilValues[0], now).getTime() : undefined;

  const graph = await loadGraph(meta);
  const usage = layerUsage([...graph.images.values()]);
  const rows: ImageListRow[] = [];
  const images = [...graph.images.values()].sort((a, b) => createdMs(b) - createdMs(a) || compareStrings(a.id.hex, b.id.hex));
  for (const image of images) {
    const created = createdMs(image);
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (until !== undefined && !(created < until)) continue;
    if (filters.label && !matchKVList(filters.label, image.labels)) continue;

    let tags = tagsOf(graph, image.id);
    if (patterns.length > 0) {
      tags = tags.filter((t) => {
        const ref = { ...parseReference(t.repository), tag: t.tag };
        return patterns.some((p) => matchReferencePattern(p, ref));
      });
    }
    const { shared, unique } = sharedAndUnique(image, usage);
    const base = {
      id: image.id.toString(),
      created: image.created,
      size: image.size,
      sharedSize: shared,
      uniqueSize: unique,
      labels: image.labels,
    };
    if (tags.length === 0) {
      if (tagsOf(graph, image.id).length > 0) continue; // tagged, but no tag matched the reference filter
      if (!all && hasChildren(graph, image.id)) continue;
      if (dangling && !danglingOnly) continue;
      if (patterns.length > 0) continue;
      rows.push({ repository: "<none>", tag: "<none>", digest: "<none>", ...base });
      continue;
    }
    if (danglingOnly) continue;
    const digests = new Map(repoDigests(image, tags).map((d) => [d.slice(0, d.lastIndexOf("@")), d.slice(d.lastIndexOf("@") + 1)]));
    for (const tag of tags) {
      const repository = familiarRepository(tag.repository);
      rows.push({ repository, tag: tag.tag, digest: digests.get(repository) ?? "<none>", ...base });
    }
  }
  return rows;
}
