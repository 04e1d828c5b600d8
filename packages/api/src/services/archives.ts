import type { Readable, Writable } from "node:stream";
import {
  EngineError,
  familiarName,
  gcBlobs,
  normalizedName,
  parseReference,
  readArchive,
  tryParseReference,
  resolveImage,
  setTagChecked,
  writeArchive,
  type Digest,
  type ImageRecord,
  type LoadedImage,
  type ReadArchiveError,
  type ReadArchiveResult,
} from "@berth/engine";
import { PrismaMetadataStore, type Transaction } from "@berth/db";
import type { Context } from "../context";
import { audited, recordFailure, type AuditTarget } from "../audit/record";
import { TagProtection } from "./tag-protection";
import { checkImagesNow } from "./layer-check";
import { guard, type Check } from "../auth/guard";

type Ctx = Pick<Context, "services" | "request" | "actor">;

export interface LoadResult {
  /** docker's output lines: `Loaded image: name:tag` / `Loaded image ID: sha256:…`. */
  lines: string[];
  images: { id: string; tags: string[] }[];
  moved: { ref: string; from: string; to: string }[];
}

/**
 * `docker load`: streams the archive into the blob store (verified), then records images
 * and tags in one transaction with the audit event. A tag that moves leaves the previous
 * image dangling, unless it is protected (then the whole load is refused, audited as denied,
 * except for an admin). On failure nothing is kept: new blobs are removed, no rows are written.
 */
export async function loadArchiveFor(ctx: Ctx, input: Readable, source: string): Promise<LoadResult> {
  let leftovers: Digest[] = [];
  try {
    return await ctx.services.blobLock.shared(async () => {
      const spec = { action: "image.load", details: { source } };
      let loaded: ReadArchiveResult;
      try {
        loaded = await readArchive(input, { blobs: ctx.services.blobs, deferCleanup: true });
      } catch (err) {
        leftovers = (err as Partial<ReadArchiveError>).createdBlobs ?? [];
        await recordFailure(ctx, spec, err);
        throw err;
      }
      leftovers = loaded.unusedBlobs;
      try {
        await guard(ctx, "load", loadTargets(loaded.images), { audit: spec.action, auditAnonymous: true, details: spec.details });
        let policy: TagProtection | undefined;
        return await audited(
          ctx,
          { ...spec, describe: (r) => ({ ...describeLoad(r), details: policy?.auditDetails() }) },
          (tx: Transaction) => recordLoaded(tx, loaded.images, (policy = new TagProtection(tx, ctx.actor))),
        );
      } catch (err) {
        leftovers = [...loaded.createdBlobs, ...loaded.unusedBlobs];
        throw err;
      }
    });
  } finally {
    // Blobs only this load wrote and nothing references: removed once no load is running.
    if (leftovers.length > 0) {
      const candidates = leftovers;
      await ctx.services.blobLock.exclusive(() =>
        gcBlobs({ meta: new PrismaMetadataStore(ctx.services.db), blobs: ctx.services.blobs, candidates }),
      );
    }
  }
}

/** Each tag needs `load` in its namespace; an image without tags is judged with no namespace. */
function loadTargets(images: readonly LoadedImage[]): Check[] {
  return images.flatMap(({ repoTags }): Check[] => (repoTags.length ? repoTags.map((ref) => ({ ref })) : [{ namespace: null }]));
}

function describeLoad(r: LoadResult) {
  return {
    targets: r.images.flatMap((img): AuditTarget[] =>
      img.tags.length
        ? img.tags.map((ref) => ({
            ref,
            digestBefore: r.moved.find((m) => m.ref === ref)?.from ?? null,
            digestAfter: img.id,
          }))
        : [{ ref: img.id, digestAfter: img.id }],
    ),
  };
}

/** Records loaded images and their tags; a tag that moves leaves the previous image dangling. */
async function recordLoaded(tx: Transaction, images: LoadedImage[], policy: TagProtection): Promise<LoadResult> {
  const meta = new PrismaMetadataStore(tx);
  const result: LoadResult = { lines: [], images: [], moved: [] };
  for (const { image, repoTags } of images) {
    await meta.putImage(image);
    const tags: string[] = [];
    for (const repoTag of repoTags) {
      const ref = parseReference(repoTag);
      const tag = ref.tag ?? "latest";
      const previous = await setTagChecked({ meta, repository: normalizedName(ref), tag, imageId: image.id, policy });
      const display = `${familiarName(ref)}:${tag}`;
      if (previous && !previous.imageId.equals(image.id)) {
        result.lines.push(
          `The image ${display} already exists, renaming the old one with ID ${previous.imageId.toString()} to empty string`,
        );
        result.moved.push({ ref: display, from: previous.imageId.toString(), to: image.id.toString() });
      }
      tags.push(display);
    }
    if (tags.length) await meta.updateImage(image.id, { lastTagTime: new Date() });
    for (const t of tags) result.lines.push(`Loaded image: ${t}`);
    if (!tags.length) result.lines.push(`Loaded image ID: ${image.id.toString()}`);
    result.images.push({ id: image.id.toString(), tags });
  }
  return result;
}

/**
 * Which images and names a `docker save` argument stands for: `name:tag` → that tag,
 * `name` → every tag of the repository, an ID → the image without names.
 */
async function selectForSave(ctx: Ctx, refs: string[]) {
  const meta = new PrismaMetadataStore(ctx.services.db);
  const byId = new Map<string, { image: ImageRecord; repoTags: string[] }>();
  const add = (image: ImageRecord, tag?: string) => {
    const entry = byId.get(image.id.toString()) ?? { image, repoTags: [] };
    if (tag && !entry.repoTags.includes(tag)) entry.repoTags.push(tag);
    byId.set(image.id.toString(), entry);
  };
  for (const raw of refs) {
    const ref = tryParseReference(raw);
    if (ref && !ref.tag && !ref.digest) {
      // `docker save redis` saves every tag of the repository.
      const tags = await meta.listTags({ repository: normalizedName(ref) });
      for (const t of tags) {
        const img = await meta.getImage(t.imageId);
        if (img) add(img, `${familiarName(ref)}:${t.tag}`);
      }
      if (tags.length > 0) continue;
    }
    const image = await resolveImage({ meta, ref: raw });
    // A name with a tag keeps that name in the archive; an ID or a digest names nothing.
    const byName = ref?.tag !== undefined && !ref.digest && !image.id.hex.startsWith(raw.replace(/^sha256:/, ""));
    add(image, byName ? `${familiarName(ref)}:${ref.tag}` : undefined);
  }
  return [...byId.values()];
}

/** `docker save`: streams one archive of the selected images to `out`. Audited when it ends. */
export async function saveImagesFor(
  ctx: Ctx,
  refs: string[],
  out: Writable,
  opts: { signal?: AbortSignal; selected?: SaveSelection } = {},
): Promise<void> {
  const spec = { action: "image.save", targets: refs.map((ref) => ({ ref })) };
  let selected: SaveSelection;
  try {
    selected = opts.selected ?? (await checkSaveable(ctx, refs));
  } catch (err) {
    await recordFailure(ctx, spec, err);
    throw err;
  }
  try {
    await writeArchive(selected, { blobs: ctx.services.blobs, out, signal: opts.signal });
  } catch (err) {
    await recordFailure(ctx, spec, err);
    throw err;
  }
  await audited(
    ctx,
    {
      action: "image.save",
      targets: selected.flatMap(({ image, repoTags }) =>
        repoTags.length
          ? repoTags.map((ref) => ({ ref, digestBefore: image.id.toString(), digestAfter: image.id.toString() }))
          : [{ ref: image.id.toString(), digestBefore: image.id.toString(), digestAfter: image.id.toString() }],
      ),
    },
    () => Promise.resolve(),
  );
}

/** The images a save names, resolved and checked. */
export type SaveSelection = Awaited<ReturnType<typeof selectForSave>>;

/**
 * The images to save, their layers all checked: an archive names each layer by its diff_id and
 * gives its size, so a pushed layer still waiting for its check (layer-check.ts) is checked now;
 * an image whose layer turned out not to match its config is refused. An HTTP endpoint calls it
 * up front to answer 404 before streaming, and hands the result to `saveImagesFor` (`selected`)
 * so it is not resolved again.
 */
export async function checkSaveable(ctx: Ctx, refs: string[]): Promise<SaveSelection> {
  let selected = await selectForSave(ctx, refs);
  const ids = selected.map(({ image }) => image.id.toString());
  const { db } = ctx.services;
  if ((await db.imageLayer.count({ where: { imageId: { in: ids }, checked: false } })) > 0) {
    await checkImagesNow(ctx, ids);
    selected = await selectForSave(ctx, refs);
  }
  const troubled = await db.image.findFirst({ where: { id: { in: ids }, problem: { not: null } }, select: { id: true, problem: true } });
  if (troubled) throw new EngineError("DIGEST_MISMATCH", `image ${troubled.id} cannot be saved: ${troubled.problem}`);
  return selected;
}
