import type { BlobStore } from "../blob-store";
import { Digest } from "../digest";
import { BlobNotFoundError, EngineError, InvalidArgumentError } from "../errors";
import {
  imageRecordFromConfig,
  parseConfig,
  parseIndex,
  parseManifest,
  type Descriptor,
  type ImageConfig,
  type Platform,
} from "../image-model";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../media-types";
import type { ImageRecord, LayerRecord } from "../metadata";
import { normalizedName, parseReference, withDefaultTag, type ImageReference } from "../reference";
import type { FetchBlobResult } from "../registry/blob-fetch";
import { abortError } from "../registry/errors";
import { ContentError, firstThatServes, openSources, type Endpoint, type EndpointResult, type Source } from "./endpoints";
import { measureStoredLayer, type LayerMeasure } from "./layer-meter";
import { layerContent } from "../layer-content";
import { blobFlightsFor, type BlobFlights } from "./blob-flights";
import { runPool } from "../pool";
import { selectPlatform } from "./platform";
import { downloadReporter, pullFinalStatus, type PullProgressEvent } from "./progress";

/**
 * `docker pull` without the metadata store: resolves a reference on the first endpoint that
 * serves it (mirrors, then the origin), keeps the index and the chosen platform's manifest,
 * streams config and layers into the blob store verified (blob digest, and each layer's
 * diff_id against the config while it streams), and returns the image record for the
 * caller to store and tag under its own lock.
 */
export interface PullImageOptions {
  /** As typed by the user: `fixtures/app:1.0`, `redis`, `host:5000/x@sha256:…`. */
  ref: string;
  blobs: BlobStore;
  /** Mirrors in order, then the origin. */
  endpoints: readonly Endpoint[];
  /** Default linux/amd64. For a single-platform image, a platform given here must match. */
  platform?: Platform;
  /** Layer downloads at once; default 3. */
  concurrency?: number;
  /** Whether a layer blob is already there ("Already exists"); default `blobs.has`. */
  has?(digest: Digest): Promise<boolean>;
  /**
   * What the caller already knows of a present layer (from its LayerRecords), so it is not
   * read again to learn its diff_id and size. Absent or undefined: the stored blob is measured.
   */
  knownLayer?(blob: Digest): Promise<{ diffId: Digest; size: number } | undefined>;
  onProgress?(event: PullProgressEvent): void;
  /**
   * Downloads shared with concurrent pulls, so a blob is fetched from upstream once; default:
   * shared by every pull into the same BlobStore instance.
   */
  flights?: BlobFlights;
  /** Every request to an endpoint, successful or not. */
  onEndpointResult?(endpoint: Endpoint, result: EndpointResult): void;
  /** Send the closing "Status: Downloaded newer image for …" line; default true. */
  finalStatus?: boolean;
  userAgent?: string;
  signal?: AbortSignal;
}

export interface PullImageResult {
  /** The chosen platform's image; repoTags holds `normalised-repo:tag` (none for a digest reference). */
  images: { image: ImageRecord; repoTags: string[] }[];
  /** The platform manifest (also `image.manifestDigest`). */
  manifestDigest: Digest;
  manifestMediaType: string;
  /** The index or manifest list the reference pointed at, if it did. */
  indexDigest?: Digest;
  /** The endpoint that served the manifest. */
  endpoint: Endpoint;
  /** Blob bytes received (config and layers, failed attempts included); manifests not counted. */
  bytesFetched: number;
  /** Blobs this pull added to the store (index, manifest, config, layers). */
  createdBlobs: Digest[];
}

/** Errors from pullImage carry the blobs it created, left in the store for the caller to collect. */
export type PullImageError = Error & { createdBlobs: Digest[] };

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const DEFAULT_PLATFORM: Platform = { os: "linux", architecture: "amd64" };
const CONFIG_MEDIA_TYPES: readonly string[] = [MediaType.dockerConfig, MediaType.ociConfig];

export async function pullImage(options: PullImageOptions): Promise<PullImageResult> {
  const concurrency = options.concurrency ?? 3;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(`pull: concurrency must be a positive integer, got ${concurrency}`);
  }
  const ref = parseReference(options.ref);
  const sources = openSources(options.endpoints, options.userAgent);
  // Aborted by the caller's signal, or by the first failing layer to stop the others.
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const pull = new Pull(options, ref, sources, controller, concurrency);
  try {
    return await pull.run();
  } catch (err) {
    controller.abort(err);
    const error = (options.signal?.aborted ? abortError(options.signal) : err) as PullImageError;
    if (typeof error === "object" && error !== null) error.createdBlobs = [...pull.created.values()];
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    for (const s of sources) s.client.close();
  }
}

class Pull {
  readonly created = new Map<string, Digest>();
  private bytesFetched = 0;
  private readonly repo: string;
  private readonly signal: AbortSignal;

  constructor(
    private readonly options: PullImageOptions,
    private readonly ref: ImageReference,
    private readonly sources: Source[],
    private readonly controller: AbortController,
    private readonly concurrency: number,
  ) {
    this.repo = ref.path;
    this.signal = controller.signal;
  }

  async run(): Promise<PullImageResult> {
    const { ref } = this;
    const reference = ref.digest?.toString() ?? withDefaultTag(ref).tag!;
    this.emit({ status: `Pulling from ${ref.path}` });

    // The manifest from the first endpoint that serves it; blobs from there or the ones after.
    const top = await firstThatServes(
      this.sources,
      `manifest ${this.subject(reference)}`,
      "manifest",
      async (s, count) => {
        const m = await s.client.getManifest(this.repo, reference, { signal: this.signal });
        count(m.bytes.length);
        return m;
      },
      this.endpointOpts(),
    );
    const served = this.sources.indexOf(top.source);
    const sources = this.sources.slice(served);

    let manifest = top.value;
    let indexDigest: Digest | undefined;
    if (isIndexMediaType(manifest.mediaType)) {
      const index = parseIndex(manifest.bytes, `manifest list ${this.subject(reference)}`);
      const chosen = selectPlatform(index.manifests, this.options.platform ?? DEFAULT_PLATFORM, this.subject(reference));
      indexDigest = manifest.digest;
      await this.storeBytes(manifest.bytes, manifest.digest);
      const child = await firstThatServes(
        sources,
        `manifest ${this.subject(chosen.digest.toString())}`,
        "manifest",
        async (s, count) => {
          const m = await s.client.getManifest(this.repo, chosen.digest.toString(), {
            signal: this.signal,
          });
          count(m.bytes.length);
          return m;
        },
        this.endpointOpts(),
      );
      manifest = child.value;
      if (!isManifestMediaType(manifest.mediaType)) {
        throw new ContentError(
          "INVALID_ARGUMENT",
          `manifest list ${this.subject(reference)} points at a ${manifest.mediaType} for its platform, not an image manifest`,
        );
      }
    }
    await this.storeBytes(manifest.bytes, manifest.digest);
    this.emit({ status: `Digest: ${(indexDigest ?? manifest.digest).toString()}` });

    const parsed = parseManifest(manifest.bytes, `manifest ${this.subject(manifest.digest.toString())}`);
    const { configBytes, config } = await this.fetchConfig(parsed.config, sources);
    if (!indexDigest && this.options.platform) checkPlatform(config, this.options.platform, this.subject(reference));
    if (config.rootfs.diff_ids.length !== parsed.layers.length) {
      throw new ContentError(
        "INVALID_ARGUMENT",
        `image ${this.subject(reference)}: the manifest lists ${parsed.layers.length} layers but the config's rootfs.diff_ids ${config.rootfs.diff_ids.length}`,
      );
    }
    const layers = await this.fetchLayers(parsed.layers, config.rootfs.diff_ids, sources);
    // An abort that came as the last download finished still fails the pull.
    if (this.signal.aborted) throw abortError(this.signal);

    const image = imageRecordFromConfig({
      configBytes,
      config,
      layers,
      manifest: { digest: manifest.digest, mediaType: manifest.mediaType },
    });
    const tag = ref.digest ? undefined : withDefaultTag(ref).tag;
    if (this.options.finalStatus ?? true) this.emit({ status: pullFinalStatus(ref, false) });
    return {
      images: [{ image, repoTags: tag ? [`${normalizedName(ref)}:${tag}`] : [] }],
      manifestDigest: manifest.digest,
      manifestMediaType: manifest.mediaType,
      ...(indexDigest ? { indexDigest } : {}),
      endpoint: top.source.endpoint,
      bytesFetched: this.bytesFetched,
      createdBlobs: [...this.created.values()],
    };
  }

  // --- config ---------------------------------------------------------------------------

  private async fetchConfig(desc: Descriptor, sources: Source[]): Promise<{ configBytes: Buffer; config: ImageConfig }> {
    const what = `config ${this.subject(desc.digest.toString())}`;
    if (!CONFIG_MEDIA_TYPES.includes(desc.mediaType)) {
      throw new ContentError("INVALID_ARGUMENT", `${what} has media type ${desc.mediaType}: not a container image`);
    }
    if (desc.size > MAX_CONFIG_BYTES) {
      throw new ContentError("TOO_LARGE", `${what} is ${desc.size} bytes, more than the ${MAX_CONFIG_BYTES} allowed`);
    }
    await this.fetchBlob(desc, sources);
    const configBytes = await this.options.blobs.read(desc.digest, MAX_CONFIG_BYTES);
    return { configBytes, config: parseConfig(configBytes, what) };
  }

  // --- layers ---------------------------------------------------------------------------

  private async fetchLayers(descs: Descriptor[], diffIds: Digest[], sources: Source[]): Promise<LayerRecord[]> {
    const has = (d: Digest) => (this.options.has ? this.options.has(d) : this.options.blobs.has(d));
    // A blob listed twice (repeated empty layers) is fetched once.
    const unique = new Map<string, { desc: Descriptor; diffId: Digest; present: boolean }>();
    for (const [i, desc] of descs.entries()) {
      if (!unique.has(desc.digest.hex)) unique.set(desc.digest.hex, { desc, diffId: diffIds[i]!, present: false });
    }
    for (const entry of unique.values()) {
      // A caller's `has` may know layers this store lacks: those are downloaded after all.
      entry.present = (await has(entry.desc.digest)) && (!this.options.has || (await this.options.blobs.has(entry.desc.digest)));
      this.emit({
        id: entry.desc.digest.short,
        status: entry.present ? "Already exists" : "Waiting",
      });
    }
    const records = new Map<string, LayerRecord>();
    const abort = (reason: unknown) => this.controller.abort(reason);
    await runPool([...unique.values()], this.concurrency, this.signal, abort, async ({ desc, diffId, present }) => {
      records.set(desc.digest.hex, await this.pullLayer(desc, diffId, present, sources));
    });
    return descs.map((desc, i) => {
      const record = records.get(desc.digest.hex)!;
      if (!record.diffId.equals(diffIds[i]!)) throw diffIdMismatch(this.subject(desc.digest.toString()), diffIds[i]!, record.diffId);
      return record;
    });
  }

  private async pullLayer(desc: Descriptor, diffId: Digest, present: boolean, sources: Source[]): Promise<LayerRecord> {
    const what = `layer ${this.subject(desc.digest.toString())}`;
    const record = (measure: { diffId: Digest; size: number }, blobSize: number): LayerRecord => {
      if (!measure.diffId.equals(diffId)) throw diffIdMismatch(what, diffId, measure.diffId);
      return {
        diffId: measure.diffId,
        blob: desc.digest,
        blobSize,
        size: measure.size,
        mediaType: desc.mediaType,
      };
    };
    if (present) {
      const known = await this.options.knownLayer?.(desc.digest);
      const stat = await this.options.blobs.stat(desc.digest);
      if (stat && known?.diffId.equals(diffId)) return record(known, stat.size);
      if (stat) {
        try {
          return record(
            this.uncompressed(await measureStoredLayer(this.options.blobs, desc.digest, this.signal), desc.digest, stat.size, what),
            stat.size,
          );
        } catch (err) {
          if (!(err instanceof BlobNotFoundError)) throw err;
        }
      }
      // "Present" by the caller's account but not in this store (or gone since): download it.
    }
    const fetched = await this.fetchBlob(desc, sources, true);
    this.emit({ id: desc.digest.short, status: "Download complete" });
    const measure = fetched.layer ?? (await measureStoredLayer(this.options.blobs, desc.digest, this.signal));
    const result = record(this.uncompressed(measure, desc.digest, desc.size, what), desc.size);
    this.emit({ id: desc.digest.short, status: "Pull complete" });
    return result;
  }

  private uncompressed(measure: LayerMeasure, blob: Digest, blobSize: number, what: string): { diffId: Digest; size: number } {
    const content = layerContent(measure, { digest: blob, size: blobSize });
    if ("unreadable" in content) throw new ContentError("INVALID_ARGUMENT", `${what} ${content.unreadable}`);
    return content;
  }

  // --- blobs ----------------------------------------------------------------------------

  /**
   * Fetches one blob into the store, verified, from the first source that serves correct
   * bytes. `meter` measures a layer's uncompressed content as it streams.
   */
  private async fetchBlob(desc: Descriptor, sources: Source[], meter = false): Promise<FetchBlobResult> {
    const report = meter ? downloadReporter(desc.digest, desc.size, (e) => this.emit(e)) : undefined;
    const flights = this.options.flights ?? blobFlightsFor(this.options.blobs);
    const { value } = await flights.run(desc.digest, (progress) => this.download(desc, sources, progress, meter), {
      signal: this.signal,
      onProgress: report,
    });
    return value;
  }

  /** The download itself, run by whichever pull of this blob came first. */
  private async download(desc: Descriptor, sources: Source[], progress: (bytes: number) => void, meter: boolean): Promise<FetchBlobResult> {
    const what = `blob ${this.subject(desc.digest.toString())}`;
    const { value } = await firstThatServes(
      sources,
      what,
      "blob",
      async (s, count) => {
        let attemptBytes = 0;
        try {
          return await s.client.fetchBlob(this.repo, desc.digest, {
            blobs: this.options.blobs,
            measureLayer: meter,
            expectedSize: desc.size,
            signal: this.signal,
            onProgress: (n) => {
              // n restarts from 0 when a server ignores Range: count what actually arrived.
              this.bytesFetched += n > attemptBytes ? n - attemptBytes : n;
              attemptBytes = n;
              count(n);
              progress(n);
            },
          });
        } finally {
          count(attemptBytes);
        }
      },
      this.endpointOpts(),
    );
    if (value.created) this.created.set(desc.digest.hex, desc.digest);
    return value;
  }

  /** Keeps a verified manifest or index in the store (so the image can be pushed or saved whole). */
  private async storeBytes(bytes: Buffer, digest: Digest): Promise<void> {
    const ingest = await this.options.blobs.ingest();
    try {
      await new Promise<void>((resolve, reject) => {
        ingest.writable.once("error", reject);
        ingest.writable.end(bytes, () => resolve());
      });
      const { created } = await ingest.commit({ digest, size: bytes.length });
      if (created) this.created.set(digest.hex, digest);
    } finally {
      await ingest.abort();
    }
  }

  // --- helpers --------------------------------------------------------------------------

  private emit(event: PullProgressEvent): void {
    this.options.onProgress?.(event);
  }

  private endpointOpts() {
    return { signal: this.signal, report: this.options.onEndpointResult?.bind(this.options) };
  }

  private subject(reference: string): string {
    return Digest.tryParse(reference) ? `${this.repo}@${reference}` : `${this.repo}:${reference}`;
  }
}

function diffIdMismatch(what: string, expected: Digest, actual: Digest): ContentError {
  return new ContentError(
    "DIGEST_MISMATCH",
    `${what}: its uncompressed content (diff_id) ${actual.toString()} does not match the config's ${expected.toString()}`,
  );
}

/** A single-platform image pulled for an explicit platform must be that platform (as docker checks). */
function checkPlatform(config: ImageConfig, wanted: Platform, subject: string): void {
  if (config.os === wanted.os && config.architecture === wanted.architecture) return;
  const found = `${config.os}/${config.architecture}${config.variant ? `/${config.variant}` : ""}`;
  throw new EngineError(
    "NOT_FOUND",
    `image ${subject} was found but is ${found}, not the requested ${wanted.os}/${wanted.architecture}${wanted.variant ? `/${wanted.variant}` : ""}`,
  );
}
