import type { Digest } from "../digest";
import type { ImageRecord, MetadataStore, TagRecord } from "../metadata";
import { familiarRepository } from "../reference";

/** A snapshot of every image and tag, with the lookups the operations need. */
export interface ImageGraph {
  images: Map<string, ImageRecord>;
  /** Tags per image hex, sorted by familiar string like docker's reference store. */
  tagsByImage: Map<string, TagRecord[]>;
  /** Image hex → hexes of images whose parentId is it. */
  children: Map<string, Set<string>>;
}

export function tagFamiliarString(tag: Pick<TagRecord, "repository" | "tag">): string {
  return `${familiarRepository(tag.repository)}:${tag.tag}`;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function loadGraph(meta: MetadataStore): Promise<ImageGraph> {
  const [images, tags] = await Promise.all([meta.listImages(), meta.listTags()]);
  const graph: ImageGraph = { images: new Map(), tagsByImage: new Map(), children: new Map() };
  for (const image of images) graph.images.set(image.id.hex, image);
  for (const tag of tags) {
    const list = graph.tagsByImage.get(tag.imageId.hex) ?? [];
    list.push(tag);
    graph.tagsByImage.set(tag.imageId.hex, list);
  }
  for (const list of graph.tagsByImage.values()) {
    list.sort((a, b) => compareStrings(tagFamiliarString(a), tagFamiliarString(b)));
  }
  for (const image of images) {
    if (!image.parentId || !graph.images.has(image.parentId.hex)) continue;
    const set = graph.children.get(image.parentId.hex) ?? new Set<string>();
    set.add(image.id.hex);
    graph.children.set(image.parentId.hex, set);
  }
  return graph;
}

export function tagsOf(graph: ImageGraph, id: Digest): TagRecord[] {
  return graph.tagsByImage.get(id.hex) ?? [];
}

export function hasChildren(graph: ImageGraph, id: Digest): boolean {
  return (graph.children.get(id.hex)?.size ?? 0) > 0;
}

/** `repo@sha256:…` for each tagged repository, when the manifest digest is known (docker's RepoDigests). */
export function repoDigests(image: ImageRecord, tags: readonly TagRecord[]): string[] {
  if (!image.manifestDigest) return [];
  const digest = image.manifestDigest.toString();
  const repos = new Set(tags.map((t) => familiarRepository(t.repository)));
  return [...repos].map((r) => `${r}@${digest}`).sort(compareStrings);
}

/** Created time in ms for sorting and filters; images without one sort as the Unix epoch. */
export function createdMs(image: ImageRecord): number {
  return image.created ? image.created.getTime() : 0;
}
