import { Readable } from "node:stream";

import type { BlobStore } from "../blob-store";
import { Digest } from "../digest";
import { InvalidArgumentError } from "../errors";
import { parseConfig, type HistoryEntry, type ImageConfig } from "../image-model";
import type { TagPolicy } from "../images/tag-policy";
import { resolveImage } from "../images/resolve";
import type { ImageRecord, LayerRecord, MetadataStore } from "../metadata";
import { applyConfigChanges } from "./config-changes";
import type { DeviceEntry, LayerEntry } from "./layer/entries";
import { writeLayer } from "./layer/layer-writer";
import { normalizeLayerPath } from "./layer/paths";
import { rootfsEntries } from "./layer/rootfs-entries";
import { openRootfsTar, type RootfsTar } from "./layer/rootfs-input";
import { parseTargetTag, saveImage, type PreparedImage, type SavedImage } from "./store-image";

/** A small file given whole (the dashboard's editor): written as a regular file. */
export interface CommitFile {
  path: string;
  content: Uint8Array;
  /** Permission bits; default 0o644. */
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface PrepareCommitOptions {
  store: BlobStore;
  meta: MetadataStore;
  /** The base image: any reference resolveImage accepts (name[:tag], ID, ID prefix). */
  base: string;
  /** A tarball of files added or replaced (plain, gzip, xz, zstd); `.wh.` members delete as in a layer. */
  changes?: Readable;
  /** Paths to delete (written as whiteouts). */
  deletes?: string[];
  files?: CommitFile[];
  /** `-a`: the config's and history's author. */
  author?: string;
  /** `-m`: the history comment. */
  message?: string;
  /** `-c` Dockerfile changes applied to the base image's config. */
  configChanges?: string[];
  now?: Date;
  signal?: AbortSignal;
}

const WHAT = "the changes tarball";
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
/** Fields of a docker-built config that describe the container it came from, not this commit. */
const CONTAINER_FIELDS = ["container", "container_config", "docker_version", "id", "parent"];

/**
 * `docker commit`, the blob half, without a container: the base image's layers plus one layer
 * holding the deletes (as whiteouts, first), the changes tarball and the given files, in that order;
 * config.author from -a, -c changes applied, a history entry like docker commit's, parent = base.
 * A commit that changes no file adds no layer (docker marks its history entry empty_layer).
 * Everything given is checked before the tarball is read; on failure nothing stays in the store.
 */
export async function prepareCommit(options: PrepareCommitOptions): Promise<PreparedImage> {
  const now = options.now ?? new Date();
  const created = now.toISOString();
  const deletes = checkDeletes(options.deletes ?? []);
  const files = checkFiles(options.files ?? [], deletes);
  const base = await resolveImage({ meta: options.meta, ref: options.base });
  const baseConfig = await readConfig(options.store, base);
  const changed = applyConfigChanges(baseConfig, options.configChanges ?? []);

  let rootfs: RootfsTar | undefined;
  let layer: LayerRecord | undefined;
  try {
    if (options.changes) rootfs = await openRootfsTar(options.changes, WHAT);
    const entries = commitEntries({ deletes, files, rootfs, mtime: now })[Symbol.asyncIterator]();
    // A commit that changes nothing adds no layer (docker: an empty diff is an empty_layer).
    const first = await entries.next();
    if (!first.done) {
      const all = (async function* () {
        yield first.value;
        yield* { [Symbol.asyncIterator]: () => entries };
      })();
      layer = await writeLayer(options.store, all, { signal: options.signal });
    }
  } finally {
    rootfs?.close();
  }

  const history: HistoryEntry = { created };
  if (options.author) history.author = options.author;
  history.created_by = "";
  if (options.message) history.comment = options.message;
  if (!layer) history.empty_layer = true;
  const config: ImageConfig = { ...changed, created, rootfs: { type: "layers", diff_ids: [...baseConfig.rootfs.diff_ids] } };
  for (const field of CONTAINER_FIELDS) delete (config as unknown as Record<string, unknown>)[field];
  // docker commit's Author is the commit's own (-a), not inherited from the base.
  if (options.author) config.author = options.author;
  else delete config.author;
  if (layer) config.rootfs.diff_ids.push(layer.diffId);
  config.history = [...(baseConfig.history ?? []), history];

  return {
    config,
    layers: layer ? [...base.layers, layer] : [...base.layers],
    parentId: base.id,
    writtenBlobs: layer ? [layer.blob] : [],
  };
}

export interface CommitImageOptions extends PrepareCommitOptions {
  /** `REPOSITORY[:TAG]` to tag the new image with. */
  reference?: string;
  policy?: TagPolicy;
}

/** `docker commit` against one metadata store. */
export async function commitImage(options: CommitImageOptions): Promise<SavedImage> {
  const target = options.reference ? parseTargetTag(options.reference) : undefined;
  const prepared = await prepareCommit(options);
  return saveImage(options.store, options.meta, prepared, { target, policy: options.policy, now: options.now });
}

async function* commitEntries(input: {
  deletes: string[];
  files: CommitFile[];
  rootfs: RootfsTar | undefined;
  mtime: Date;
}): AsyncIterable<LayerEntry | DeviceEntry> {
  const { deletes, files, rootfs, mtime } = input;
  // Whiteouts first: a deleted directory may then be re-created by what follows.
  for (const path of deletes) yield { type: "whiteout", path, mtime };
  if (rootfs) {
    const deleted = new Set(deletes);
    yield* rootfsEntries(rootfs, {
      what: WHAT,
      whiteouts: "keep",
      onPath: (path) => {
        if (deleted.has(path)) throw new InvalidArgumentError(`"/${path}" is both deleted and in ${WHAT}`);
      },
    });
  }
  for (const file of files) {
    yield {
      type: "file",
      path: normalizeLayerPath(file.path),
      mode: file.mode ?? 0o644,
      uid: file.uid ?? 0,
      gid: file.gid ?? 0,
      mtime,
      size: file.content.byteLength,
      open: () => Readable.from([Buffer.from(file.content)]),
    };
  }
}

function checkDeletes(raw: string[]): string[] {
  const paths = new Set<string>();
  for (const given of raw) {
    const path = normalizeLayerPath(given, "delete path");
    if (path === "") throw new InvalidArgumentError(`delete path ${JSON.stringify(given)} is the root directory, which cannot be deleted`);
    paths.add(path);
  }
  return [...paths];
}

function checkFiles(files: CommitFile[], deletes: string[]): CommitFile[] {
  const seen = new Set<string>();
  const deleted = new Set(deletes);
  for (const file of files) {
    const path = normalizeLayerPath(file.path, "file path");
    if (path === "") throw new InvalidArgumentError(`file path ${JSON.stringify(file.path)} names the root directory`);
    if (seen.has(path)) throw new InvalidArgumentError(`file "/${path}" is given twice`);
    if (deleted.has(path)) throw new InvalidArgumentError(`"/${path}" is both deleted and written`);
    const mode = file.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw new InvalidArgumentError(`file "/${path}": mode ${mode} is not a permission mode (0 to 0o7777)`);
    }
    for (const [what, id] of [
      ["uid", file.uid],
      ["gid", file.gid],
    ] as const) {
      if (id !== undefined && (!Number.isSafeInteger(id) || id < 0))
        throw new InvalidArgumentError(`file "/${path}": ${what} ${id} is not valid`);
    }
    seen.add(path);
  }
  return files;
}

async function readConfig(store: BlobStore, image: ImageRecord): Promise<ImageConfig> {
  const bytes = await store.read(image.id, MAX_CONFIG_BYTES);
  const config = parseConfig(bytes, `config of image ${image.id.toString()}`);
  if (!Digest.of(bytes).equals(image.id))
    throw new InvalidArgumentError(`the stored config of image ${image.id.toString()} does not match its ID`);
  return config;
}
