import { createHash } from "node:crypto";

import type { Digest } from "../../digest";
import type { ContainerConfig, HistoryEntry, ImageConfig } from "../../image-model";
import type { LayerRecord } from "../../metadata";
import type { Stage } from "../dockerfile/ast";
import { type ExpandEnv, envFromList } from "../dockerfile/expand";
import type { ImageFilesystem } from "./image-fs";

/** Where a stage is: the image of its last step (config and layers), its ARGs, and its filesystem once needed. */
export interface StageState {
  stage: Stage;
  config: ImageConfig;
  layers: LayerRecord[];
  /** null until the first step of a `FROM scratch` stage. */
  imageId: Digest | null;
  /** "os/arch[/variant]" of the stage, for scratch cache keys and `COPY --from` images. */
  platform: string;
  /** ARGs declared in the stage; undefined: declared without a value. */
  args: Map<string, string | undefined>;
  cmdSetInStage: boolean;
  fs?: ImageFilesystem;
}

/** Variables for expansion: the config's Env first, then the stage's ARGs (docker's precedence). */
export function stageEnv(state: StageState): ExpandEnv {
  return envFromList(state.config.config?.Env, (name) => state.args.get(name));
}

/** The cache key of a step: parent image, instruction as written, and what it resolved to (expanded values, content digest). */
export function cacheKey(state: StageState, original: string, details: unknown): string {
  const parent = state.imageId ? state.imageId.toString() : `scratch:${state.platform}`;
  return createHash("sha256")
    .update(JSON.stringify([parent, original, details]))
    .digest("hex");
}

/** Docker's RFC 3339 time: whole seconds without a fraction. */
export function rfc3339(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** The config of a step's image: fixed key order, so the same step gives the same image ID. */
export function assembleConfig(
  base: ImageConfig,
  runtime: ContainerConfig | undefined,
  layers: LayerRecord[],
  history: HistoryEntry,
  created: Date,
): ImageConfig {
  const ordered: Record<string, unknown> = { architecture: base.architecture };
  if (base.author !== undefined) ordered.author = base.author;
  ordered.config = runtime ?? {};
  ordered.created = rfc3339(created);
  ordered.history = [...(base.history ?? []), history];
  ordered.os = base.os;
  if (base["os.version"] !== undefined) ordered["os.version"] = base["os.version"];
  ordered.rootfs = { type: "layers", diff_ids: layers.map((l) => l.diffId) };
  if (base.variant !== undefined) ordered.variant = base.variant;
  return ordered as unknown as ImageConfig;
}

export function historyEntry(created: Date, createdBy: string, emptyLayer: boolean): HistoryEntry {
  const entry: HistoryEntry = { created: rfc3339(created), created_by: createdBy };
  if (emptyLayer) entry.empty_layer = true;
  return entry;
}
