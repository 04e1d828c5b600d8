import type { Readable } from "node:stream";

import type { BlobStore } from "../blob-store";
import { InvalidArgumentError } from "../errors";
import type { ImageConfig, Platform } from "../image-model";
import type { MetadataStore } from "../metadata";
import type { TagPolicy } from "../images/tag-policy";
import { applyConfigChanges } from "./config-changes";
import { writeLayer } from "./layer/layer-writer";
import { rootfsEntries } from "./layer/rootfs-entries";
import { openRootfsTar } from "./layer/rootfs-input";
import { parseTargetTag, saveImage, type PreparedImage, type SavedImage } from "./store-image";

export interface PrepareImportOptions {
  store: BlobStore;
  /** The rootfs tarball: plain, gzip, xz or zstd. */
  input: Readable;
  /** `os/arch[/variant]`; default linux/amd64 (docker import takes the daemon's, which Berth does not have). */
  platform?: string;
  /** `-c` Dockerfile changes (CMD ENTRYPOINT ENV EXPOSE HEALTHCHECK LABEL ONBUILD USER VOLUME WORKDIR STOPSIGNAL). */
  changes?: string[];
  /** `-m`: the history comment; default `Imported from <source>`. */
  message?: string;
  /** Where the rootfs came from, for the default comment: "-" (a stream), as docker import says for a file. */
  source?: string;
  now?: Date;
  signal?: AbortSignal;
}

const WHAT = "the rootfs tarball";

/**
 * `docker import`, the blob half: the rootfs tarball becomes one normalised gzip layer (names
 * without "/" or "./", ".." refused, whiteouts dropped) and a config like docker's. Options are
 * checked before the upload is read; on failure nothing stays in the store.
 */
export async function prepareImport(options: PrepareImportOptions): Promise<PreparedImage> {
  const platform = parsePlatformOption(options.platform);
  const created = (options.now ?? new Date()).toISOString();
  const empty: ImageConfig = { ...platformFields(platform), config: {}, rootfs: { type: "layers", diff_ids: [] } };
  const containerConfig = applyConfigChanges(empty, options.changes ?? []).config ?? {};

  const rootfs = await openRootfsTar(options.input, WHAT);
  let layer;
  try {
    layer = await writeLayer(options.store, rootfsEntries(rootfs, { what: WHAT, whiteouts: "drop" }), { signal: options.signal });
  } finally {
    rootfs.close();
  }
  const config: ImageConfig = {
    ...platformFields(platform),
    created,
    config: containerConfig,
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
    history: [{ created, created_by: "", comment: options.message || `Imported from ${options.source ?? "-"}` }],
  };
  return { config, layers: [layer], parentId: null, writtenBlobs: [layer.blob] };
}

export interface ImportImageOptions extends PrepareImportOptions {
  meta: MetadataStore;
  /** `REPOSITORY[:TAG]` to tag the image with. */
  reference?: string;
  policy?: TagPolicy;
}

/** `docker import FILE|- [REPOSITORY[:TAG]]` against one metadata store. */
export async function importImage(options: ImportImageOptions): Promise<SavedImage> {
  const target = options.reference ? parseTargetTag(options.reference) : undefined;
  const prepared = await prepareImport(options);
  return saveImage(options.store, options.meta, prepared, { target, policy: options.policy, now: options.now });
}

const PLATFORM_PART = /^[a-z0-9_.-]+$/;
const ARCH_ALIASES: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", i386: "386", i686: "386" };

/** `os/arch[/variant]` (or `os` alone: amd64) as containerd normalises it; default linux/amd64. */
export function parsePlatformOption(value: string | undefined): Platform {
  if (value === undefined || value.trim() === "") return { os: "linux", architecture: "amd64" };
  const parts = value.trim().toLowerCase().split("/");
  if (parts.length > 3 || !parts.every((p) => PLATFORM_PART.test(p))) {
    throw new InvalidArgumentError(`invalid platform "${value}": expected os/arch[/variant], e.g. linux/arm64`);
  }
  const [os = "linux", arch = "amd64", variant] = parts;
  const architecture = ARCH_ALIASES[arch] ?? arch;
  // arm64 is v8 unless said otherwise; containerd leaves the variant out then.
  if (!variant || (architecture === "arm64" && variant === "v8")) return { os, architecture };
  return { os, architecture, variant };
}

function platformFields(platform: Platform): Pick<ImageConfig, "architecture" | "os" | "variant"> {
  return platform.variant
    ? { architecture: platform.architecture, os: platform.os, variant: platform.variant }
    : { architecture: platform.architecture, os: platform.os };
}
