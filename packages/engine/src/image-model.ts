import { Digest } from "./digest";
import { InvalidArgumentError } from "./errors";
import type { ImageRecord, LayerRecord } from "./metadata";

/**
 * The JSON documents of an image (manifest, index, config) as typed values, and parsers
 * that check their shape. Parsers throw InvalidArgumentError naming the field at fault;
 * callers that know where the bytes came from (an archive member, a registry URL) wrap
 * the message with that origin.
 */

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/** OCI image manifest or Docker schema2 manifest: the two share this shape. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** OCI image index or Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** The runtime part of an image config, with docker's field names. */
export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  StopSignal?: string;
  OnBuild?: string[] | null;
  Shell?: string[];
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  ArgsEscaped?: boolean;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

// ------------------------------------------------------------------ parsing --

type Json = Record<string, unknown>;

function parseJsonObject(buf: Uint8Array, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(buf).toString("utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`${what} is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(value)) throw new InvalidArgumentError(`${what} must be a JSON object`);
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(obj: Json, key: string, what: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(`${what}: "${key}" must be a string`);
  return value;
}

function requiredString(obj: Json, key: string, what: string): string {
  const value = optionalString(obj, key, what);
  if (value === undefined || value === "") throw new InvalidArgumentError(`${what}: "${key}" is missing`);
  return value;
}

function stringMap(value: unknown, what: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw new InvalidArgumentError(`${what} must be an object of strings`);
  }
  return value as Record<string, string>;
}

function parseDigest(value: unknown, what: string): Digest {
  const digest = typeof value === "string" ? Digest.tryParse(value) : undefined;
  if (!digest) throw new InvalidArgumentError(`${what}: ${JSON.stringify(value)} is not a sha256 digest`);
  return digest;
}

function checkSchemaVersion(obj: Json, what: string): void {
  if (obj.schemaVersion !== 2) {
    throw new InvalidArgumentError(`${what}: schemaVersion must be 2, got ${JSON.stringify(obj.schemaVersion)}`);
  }
}

export function parseDescriptor(value: unknown, what: string): Descriptor {
  if (!isObject(value)) throw new InvalidArgumentError(`${what} must be an object`);
  const size = value.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidArgumentError(`${what}: "size" must be a non-negative integer`);
  }
  const descriptor: Descriptor = {
    mediaType: requiredString(value, "mediaType", what),
    digest: parseDigest(value.digest, `${what}.digest`),
    size,
  };
  const annotations = stringMap(value.annotations, `${what}.annotations`);
  if (annotations) descriptor.annotations = annotations;
  if (value.platform !== undefined) {
    if (!isObject(value.platform)) throw new InvalidArgumentError(`${what}.platform must be an object`);
    const platform: Platform = {
      architecture: requiredString(value.platform, "architecture", `${what}.platform`),
      os: requiredString(value.platform, "os", `${what}.platform`),
    };
    const variant = optionalString(value.platform, "variant", `${what}.platform`);
    if (variant) platform.variant = variant;
    descriptor.platform = platform;
  }
  return descriptor;
}

export function parseManifest(buf: Uint8Array, what = "image manifest"): ImageManifest {
  const obj = parseJsonObject(buf, what);
  checkSchemaVersion(obj, what);
  if (!Array.isArray(obj.layers)) throw new InvalidArgumentError(`${what}: "layers" must be an array`);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    config: parseDescriptor(obj.config, `${what}: config`),
    layers: obj.layers.map((layer, i) => parseDescriptor(layer, `${what}: layers[${i}]`)),
  };
  const mediaType = optionalString(obj, "mediaType", what);
  if (mediaType) manifest.mediaType = mediaType;
  const annotations = stringMap(obj.annotations, `${what}: annotations`);
  if (annotations) manifest.annotations = annotations;
  return manifest;
}

export function parseIndex(buf: Uint8Array, what = "image index"): ImageIndex {
  const obj = parseJsonObject(buf, what);
  checkSchemaVersion(obj, what);
  if (!Array.isArray(obj.manifests)) throw new InvalidArgumentError(`${what}: "manifests" must be an array`);
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: obj.manifests.map((m, i) => parseDescriptor(m, `${what}: manifests[${i}]`)),
  };
  const mediaType = optionalString(obj, "mediaType", what);
  if (mediaType) index.mediaType = mediaType;
  const annotations = stringMap(obj.annotations, `${what}: annotations`);
  if (annotations) index.annotations = annotations;
  return index;
}

/**
 * Checks the fields the engine relies on (platform, rootfs, types of the runtime config)
 * and returns the document with diff_ids as Digests. Unknown fields are kept as they are.
 */
export function parseConfig(buf: Uint8Array, what = "image config"): ImageConfig {
  const obj = parseJsonObject(buf, what);
  const rootfs = obj.rootfs;
  if (!isObject(rootfs)) throw new InvalidArgumentError(`${what}: "rootfs" is missing`);
  if (rootfs.type !== "layers") {
    throw new InvalidArgumentError(`${what}: rootfs.type must be "layers", got ${JSON.stringify(rootfs.type)}`);
  }
  if (!Array.isArray(rootfs.diff_ids)) throw new InvalidArgumentError(`${what}: rootfs.diff_ids must be an array`);
  const diffIds = rootfs.diff_ids.map((d, i) => parseDigest(d, `${what}: rootfs.diff_ids[${i}]`));

  const config: ImageConfig = {
    ...(obj as object),
    architecture: requiredString(obj, "architecture", what),
    os: requiredString(obj, "os", what),
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  optionalString(obj, "variant", what);
  optionalString(obj, "created", what);
  optionalString(obj, "author", what);
  if (obj.config !== undefined && obj.config !== null) checkContainerConfig(obj.config, `${what}: config`);
  if (obj.history !== undefined && !Array.isArray(obj.history)) {
    throw new InvalidArgumentError(`${what}: "history" must be an array`);
  }
  return config;
}

function checkContainerConfig(value: unknown, what: string): void {
  if (!isObject(value)) throw new InvalidArgumentError(`${what} must be an object`);
  for (const key of ["User", "WorkingDir", "StopSignal"]) optionalString(value, key, what);
  for (const key of ["Env", "Cmd", "Entrypoint", "OnBuild", "Shell"]) {
    const list = value[key];
    if (list !== undefined && list !== null && !(Array.isArray(list) && list.every((s) => typeof s === "string"))) {
      throw new InvalidArgumentError(`${what}: "${key}" must be an array of strings`);
    }
  }
  stringMap(value.Labels, `${what}: Labels`);
  for (const key of ["ExposedPorts", "Volumes"]) {
    if (value[key] !== undefined && value[key] !== null && !isObject(value[key])) {
      throw new InvalidArgumentError(`${what}: "${key}" must be an object`);
    }
  }
}

// ------------------------------------------------------------ image records --

export interface ImageRecordInput {
  /** The config exactly as stored: its digest is the image ID. */
  configBytes: Uint8Array;
  /** Parsed form of configBytes, when the caller already has it. */
  config?: ImageConfig;
  /** One per config.rootfs.diff_ids entry, in the same order. */
  layers: LayerRecord[];
  manifest?: { digest: Digest; mediaType: string } | null;
  loadedAt?: Date;
}

/** Builds the store's record of an image from its config and the facts about its layers. */
export function imageRecordFromConfig(input: ImageRecordInput): ImageRecord {
  const config = input.config ?? parseConfig(input.configBytes);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== input.layers.length) {
    throw new InvalidArgumentError(`image config lists ${diffIds.length} layers (rootfs.diff_ids) but ${input.layers.length} were given`);
  }
  input.layers.forEach((layer, i) => {
    if (!layer.diffId.equals(diffIds[i]!)) {
      throw new InvalidArgumentError(`layer ${i}: diff_id ${layer.diffId.toString()} differs from the config's ${diffIds[i]!.toString()}`);
    }
  });
  const created = config.created ? new Date(config.created) : null;
  return {
    id: Digest.of(input.configBytes),
    created: created && !Number.isNaN(created.getTime()) ? created : null,
    architecture: config.architecture,
    os: config.os,
    variant: config.variant ?? null,
    size: input.layers.reduce((sum, layer) => sum + layer.size, 0),
    configSize: input.configBytes.byteLength,
    layers: input.layers,
    labels: { ...(config.config?.Labels ?? {}) },
    // Only docker's local build cache knows parents; configs do not carry them.
    parentId: null,
    manifestDigest: input.manifest?.digest ?? null,
    manifestMediaType: input.manifest?.mediaType ?? null,
    pinned: false,
    loadedAt: input.loadedAt ?? new Date(),
    lastTagTime: null,
  };
}
