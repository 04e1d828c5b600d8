import { Digest } from "../digest";
import { DigestMismatchError, EngineError, InvalidArchiveError, SizeMismatchError } from "../errors";
import { imageRecordFromConfig, parseConfig, parseIndex, parseManifest, type Descriptor, type ImageConfig } from "../image-model";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../media-types";
import type { ImageRecord, LayerRecord } from "../metadata";
import type { ArchiveMembers } from "./archive-members";
import { claimedConfigHex, normalizeMemberName } from "./member-paths";
import type { StoredMember } from "./store-member";

export interface LoadedImage {
  /** loadedAt = now, lastTagTime = null, pinned = false. */
  image: ImageRecord;
  /** As written in the archive, e.g. "fixtures/app:1.0". */
  repoTags: string[];
}

/**
 * Turns the members of a finished pass into images: manifest.json when present
 * (`docker save`, legacy and 25+), otherwise the OCI layout's index.json.
 */
export async function resolveImages(members: ArchiveMembers, loadedAt: Date): Promise<LoadedImage[]> {
  const found = new ImageCollector();
  if (members.has("manifest.json")) {
    const manifestsByConfig = members.has("index.json")
      ? await manifestsInIndex(members)
      : new Map<string, { digest: Digest; mediaType: string }>();
    await resolveDockerManifest(members, found, manifestsByConfig, loadedAt);
  } else if (members.has("index.json")) {
    await resolveOciIndex(members, found, loadedAt);
  } else {
    throw new InvalidArchiveError(
      members.byName.size === 0
        ? "the archive is empty"
        : "manifest.json is missing (and there is no OCI index.json): not a docker save or OCI layout archive",
    );
  }
  if (found.images.size === 0) throw new InvalidArchiveError("the archive holds no images");
  return [...found.images.values()];
}

/** Images by ID: one image tagged twice in an archive is loaded once with both tags. */
class ImageCollector {
  readonly images = new Map<string, LoadedImage>();

  add(image: ImageRecord, repoTags: string[]): void {
    const existing = this.images.get(image.id.hex);
    if (!existing) {
      this.images.set(image.id.hex, { image, repoTags: [...new Set(repoTags)] });
      return;
    }
    for (const tag of repoTags) if (!existing.repoTags.includes(tag)) existing.repoTags.push(tag);
    existing.image.manifestDigest ??= image.manifestDigest;
    existing.image.manifestMediaType ??= image.manifestMediaType;
  }
}

// ------------------------------------------------------------ docker save --

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseDockerManifest(bytes: Buffer): DockerManifestEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new InvalidArchiveError(`manifest.json is not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(value)) throw new InvalidArchiveError("manifest.json must be a JSON array");
  return value.map((entry: unknown, i) => {
    const e = entry as Partial<Record<keyof DockerManifestEntry, unknown>> | null;
    const isStrings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
    if (typeof e !== "object" || e === null || typeof e.Config !== "string" || !isStrings(e.Layers)) {
      throw new InvalidArchiveError(`manifest.json[${i}] must have "Config" (a path) and "Layers" (paths)`);
    }
    if (e.RepoTags !== undefined && e.RepoTags !== null && !isStrings(e.RepoTags)) {
      throw new InvalidArchiveError(`manifest.json[${i}]: "RepoTags" must be an array of strings`);
    }
    return { Config: e.Config, Layers: e.Layers, RepoTags: e.RepoTags ?? [] };
  });
}

async function resolveDockerManifest(
  members: ArchiveMembers,
  found: ImageCollector,
  manifestsByConfig: Map<string, { digest: Digest; mediaType: string }>,
  loadedAt: Date,
): Promise<void> {
  const entries = parseDockerManifest(members.metadata("manifest.json")!);
  for (const entry of entries) {
    const configPath = normalizeMemberName(entry.Config);
    const { config, configBytes } = await readConfig(members, configPath, undefined);
    const diffIds = config.rootfs.diff_ids;
    if (entry.Layers.length !== diffIds.length) {
      throw new InvalidArchiveError(
        `manifest.json lists ${entry.Layers.length} layers for config "${configPath}", whose rootfs.diff_ids has ${diffIds.length}`,
      );
    }
    const layers = entry.Layers.map((raw, i) => {
      const path = normalizeMemberName(raw);
      const { name, stored } = members.blob(path, "layer", { allowLinks: true });
      return layerRecord(name === path ? path : `${path}" -> "${name}`, stored, diffIds[i]!, i, undefined);
    });
    const image = imageRecordFromConfig({
      configBytes,
      config,
      layers,
      manifest: manifestsByConfig.get(Digest.of(configBytes).hex) ?? null,
      loadedAt,
    });
    found.add(image, entry.RepoTags);
  }
}

/** Docker 25+ archives also carry OCI manifests: remember them, keyed by config digest. */
async function manifestsInIndex(members: ArchiveMembers): Promise<Map<string, { digest: Digest; mediaType: string }>> {
  const byConfig = new Map<string, { digest: Digest; mediaType: string }>();
  const index = parseJsonMember(members.metadata("index.json")!, "index.json", parseIndex);
  for (const descriptor of index.manifests) {
    if (!isManifestMediaType(descriptor.mediaType)) continue;
    const { manifest } = await readManifest(members, descriptor);
    byConfig.set(manifest.config.digest.hex, { digest: descriptor.digest, mediaType: descriptor.mediaType });
  }
  return byConfig;
}

// ------------------------------------------------------------- OCI layout --

async function resolveOciIndex(members: ArchiveMembers, found: ImageCollector, loadedAt: Date): Promise<void> {
  const layout = members.metadata("oci-layout");
  if (layout !== undefined) {
    const version = parseJsonMember(layout, "oci-layout", (b) => JSON.parse(b.toString("utf8")) as unknown);
    if (typeof (version as { imageLayoutVersion?: unknown })?.imageLayoutVersion !== "string") {
      throw new InvalidArchiveError('oci-layout must be a JSON object with "imageLayoutVersion"');
    }
  }
  const index = parseJsonMember(members.metadata("index.json")!, "index.json", parseIndex);
  for (const descriptor of index.manifests) {
    await walkDescriptor(members, found, descriptor, repoTagOf(descriptor), loadedAt, 0);
  }
}

/** The tag an index entry gives its image: containerd's full name, else a ref name that names a repository. */
function repoTagOf(descriptor: Descriptor): string | undefined {
  const full = descriptor.annotations?.["io.containerd.image.name"];
  if (full) return full;
  const ref = descriptor.annotations?.["org.opencontainers.image.ref.name"];
  // A bare "1.0" (what the OCI spec suggests) names no repository, so it cannot become a tag.
  return ref && ref.includes(":") ? ref : undefined;
}

async function walkDescriptor(
  members: ArchiveMembers,
  found: ImageCollector,
  descriptor: Descriptor,
  repoTag: string | undefined,
  loadedAt: Date,
  depth: number,
): Promise<void> {
  if (depth > 4) throw new InvalidArchiveError(`index nesting deeper than 4 at ${descriptor.digest.toString()}`);
  if (isManifestMediaType(descriptor.mediaType)) {
    const image = await imageFromManifest(members, descriptor, loadedAt);
    if (image) found.add(image, repoTag ? [repoTag] : []);
    return;
  }
  if (!isIndexMediaType(descriptor.mediaType)) return; // e.g. artifacts: not images
  const { name, stored } = members.blobByDigest(descriptor.digest, "index");
  checkDescriptorSize(descriptor, name, stored);
  const index = parseJsonMember(await members.json(name, "index", stored), name, parseIndex);
  const taggedChild = pickTaggedChild(index.manifests);
  for (const child of index.manifests) {
    await walkDescriptor(members, found, child, child === taggedChild ? repoTag : undefined, loadedAt, depth + 1);
  }
}

/** Multi-platform index: the tag goes to linux/amd64, or to the only image there is. */
function pickTaggedChild(children: Descriptor[]): Descriptor | undefined {
  const images = children.filter((c) => c.platform?.os !== "unknown");
  const amd64 = images.find((c) => c.platform?.os === "linux" && c.platform.architecture === "amd64");
  return amd64 ?? (images.length === 1 ? images[0] : undefined);
}

async function imageFromManifest(members: ArchiveMembers, descriptor: Descriptor, loadedAt: Date): Promise<ImageRecord | undefined> {
  const { manifest, name } = await readManifest(members, descriptor);
  const configType = manifest.config.mediaType;
  // Attestations and other artifacts use the manifest shape with a non-image config.
  if (configType !== MediaType.ociConfig && configType !== MediaType.dockerConfig) return undefined;
  const { config, configBytes } = await readConfig(members, `blobs/sha256/${manifest.config.digest.hex}`, manifest.config);
  const diffIds = config.rootfs.diff_ids;
  if (manifest.layers.length !== diffIds.length) {
    throw new InvalidArchiveError(
      `manifest "${name}" lists ${manifest.layers.length} layers, its config's rootfs.diff_ids ${diffIds.length}`,
    );
  }
  const layers = manifest.layers.map((layer, i) => {
    const blob = members.blobByDigest(layer.digest, "layer");
    checkDescriptorSize(layer, blob.name, blob.stored);
    return layerRecord(blob.name, blob.stored, diffIds[i]!, i, layer.mediaType);
  });
  return imageRecordFromConfig({
    configBytes,
    config,
    layers,
    manifest: { digest: descriptor.digest, mediaType: manifest.mediaType ?? descriptor.mediaType },
    loadedAt,
  });
}

// ---------------------------------------------------------------- shared --

async function readManifest(members: ArchiveMembers, descriptor: Descriptor) {
  const { name, stored } = members.blobByDigest(descriptor.digest, "manifest");
  checkDescriptorSize(descriptor, name, stored);
  const manifest = parseJsonMember(await members.json(name, "manifest", stored), name, parseManifest);
  return { manifest, name };
}

async function readConfig(
  members: ArchiveMembers,
  path: string,
  descriptor: Descriptor | undefined,
): Promise<{ config: ImageConfig; configBytes: Buffer }> {
  // A config decides what the image is: never accept it through a link.
  const { stored } = members.blob(path, "config", { allowLinks: false });
  const claimed = claimedConfigHex(path);
  if (claimed !== undefined && claimed !== stored.digest.hex) {
    throw new DigestMismatchError(`config "${path}" does not match its name`, `sha256:${claimed}`, stored.digest.toString());
  }
  if (descriptor) checkDescriptorSize(descriptor, path, stored);
  const configBytes = await members.json(path, "config", stored);
  return { config: parseJsonMember(configBytes, `config "${path}"`, parseConfig), configBytes };
}

function layerRecord(
  name: string,
  stored: StoredMember,
  expectedDiffId: Digest,
  index: number,
  mediaType: string | undefined,
): LayerRecord {
  let diffId = stored.digest;
  let size = stored.size;
  if (stored.compression === "zstd") {
    throw new InvalidArchiveError(`layer "${name}" is zstd-compressed, which this engine cannot load yet`);
  }
  if (stored.compression === "gzip") {
    if (!stored.uncompressed) {
      throw new InvalidArchiveError(`layer "${name}" is not valid gzip (${stored.gzipError ?? "unknown error"})`);
    }
    ({ digest: diffId, size } = stored.uncompressed);
  }
  if (!diffId.equals(expectedDiffId)) {
    throw new DigestMismatchError(
      `layer "${name}" differs from the config's rootfs.diff_ids[${index}]`,
      expectedDiffId.toString(),
      diffId.toString(),
    );
  }
  return {
    diffId,
    blob: stored.digest,
    blobSize: stored.size,
    size,
    mediaType: mediaType ?? (stored.compression === "gzip" ? MediaType.ociLayerGzip : MediaType.ociLayerTar),
  };
}

function checkDescriptorSize(descriptor: Descriptor, name: string, stored: StoredMember): void {
  if (descriptor.size !== stored.size) throw new SizeMismatchError(`member "${name}"`, descriptor.size, stored.size);
}

/** Runs a parser and names the member in its complaint. */
function parseJsonMember<T>(bytes: Buffer, what: string, parse: (bytes: Buffer, what: string) => T): T {
  try {
    return parse(bytes, what);
  } catch (err) {
    if (err instanceof EngineError && err.code !== "INVALID_ARGUMENT") throw err;
    throw new InvalidArchiveError(err instanceof Error ? err.message : String(err));
  }
}
