import type { BlobStore } from "../blob-store";
import type { Digest } from "../digest";
import { EngineError, InvalidArgumentError } from "../errors";
import type { Descriptor } from "../image-model";
import type { ImageRecord } from "../metadata";
import { openSources, type Endpoint } from "../pull/endpoints";
import { familiarName, normalizedName, parseReference } from "../reference";
import type { RegistryClient } from "../registry/client";
import { RegistryError, abortError } from "../registry/errors";
import { localBlobFile } from "../registry/transfer-thread";
import { isRetryableError } from "../registry/transport";
import { planManifest, type ManifestPlan } from "./manifest-plan";
import { runPool } from "../pool";
import { uploadReporter, type PushLayerEvent, type PushProgressEvent } from "./progress";

/**
 * `docker push` without the metadata store: for each tag, the layers the registry lacks are
 * uploaded (or mounted from another repository of the same registry) straight from the blob
 * store, then the config, then the manifest. Layers go as stored, never recompressed.
 */
export interface PushImageOptions {
  blobs: BlobStore;
  /** The repository pushed to, with its registry: `127.0.0.1:5000/team/app`, `docker.io/library/redis`. */
  repository: string;
  /** The tags to push, in order, each with the image it names. */
  tags: readonly { tag: string; image: ImageRecord }[];
  /** The registry itself, with its credentials. */
  endpoint: Endpoint;
  /** Repository paths on the same registry that may hold the blobs (see resolvePushTargets): mount sources. */
  mountFrom?: readonly string[];
  /** Layer uploads at once; default 3, as docker. */
  concurrency?: number;
  /** Upload in PATCHes of this many bytes; default one monolithic PUT per blob. */
  chunkSize?: number;
  /** Attempts per blob after a network error or a 5xx; default 3. */
  attempts?: number;
  onProgress?(event: PushProgressEvent): void;
  userAgent?: string;
  signal?: AbortSignal;
}

export interface PushedTag {
  tag: string;
  digest: Digest;
  mediaType: string;
  /** Bytes of the manifest. */
  size: number;
  /** True when the manifest is the one the image arrived with (its digest is unchanged). */
  original: boolean;
}

export interface PushImageResult {
  tags: PushedTag[];
  endpoint: Endpoint;
  /** Blob bytes sent (layers and configs, failed attempts included). */
  bytesUploaded: number;
  /** Distinct layers uploaded, found already present, and mounted from another repository. */
  layersPushed: number;
  layersSkipped: number;
  layersMounted: number;
}

type BlobOutcome = "pushed" | "exists" | "mounted";

export async function pushImage(options: PushImageOptions): Promise<PushImageResult> {
  const concurrency = options.concurrency ?? 3;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(`push: concurrency must be a positive integer, got ${concurrency}`);
  }
  if (options.tags.length === 0) throw new InvalidArgumentError("push: no tag to push");
  const ref = parseReference(options.repository);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new InvalidArgumentError(`push: "${options.repository}" must name a repository, without tag or digest`);
  }
  const [source] = openSources([options.endpoint], options.userAgent);
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    return await new Push(options, ref.path, normalizedName(ref), source!.client, controller, concurrency).run();
  } catch (err) {
    controller.abort(err);
    throw options.signal?.aborted ? abortError(options.signal) : err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    source!.client.close();
  }
}

class Push {
  private bytesUploaded = 0;
  /** Blobs settled in this push (by hex), so a layer shared by two tags is handled once. */
  private readonly blobs = new Map<string, Promise<BlobOutcome>>();
  private readonly layerOutcomes = new Map<string, BlobOutcome>();
  private readonly signal: AbortSignal;
  private readonly mountFrom: string[];

  constructor(
    private readonly options: PushImageOptions,
    private readonly repo: string,
    private readonly repository: string,
    private readonly client: RegistryClient,
    private readonly controller: AbortController,
    private readonly concurrency: number,
  ) {
    this.signal = controller.signal;
    this.mountFrom = (options.mountFrom ?? []).filter((r) => r !== repo);
  }

  async run(): Promise<PushImageResult> {
    this.emit({ status: `The push refers to repository [${this.repository}]` });
    const tags: PushedTag[] = [];
    for (const { tag, image } of this.options.tags) {
      const plan = await planManifest(this.options.blobs, image);
      await this.pushLayers(plan, `${familiarName(parseReference(this.repository))}:${tag}`);
      await this.pushBlob(plan.config);
      if (this.signal.aborted) throw abortError(this.signal);
      await this.client.putManifest(this.repo, tag, { mediaType: plan.mediaType, bytes: plan.bytes }, { signal: this.signal });
      this.emit({ status: `${tag}: digest: ${plan.digest.toString()} size: ${plan.bytes.length}` });
      tags.push({ tag, digest: plan.digest, mediaType: plan.mediaType, size: plan.bytes.length, original: plan.original });
    }
    const count = (o: BlobOutcome) => [...this.layerOutcomes.values()].filter((v) => v === o).length;
    return {
      tags,
      endpoint: this.options.endpoint,
      bytesUploaded: this.bytesUploaded,
      layersPushed: count("pushed"),
      layersSkipped: count("exists"),
      layersMounted: count("mounted"),
    };
  }

  // --- layers ---------------------------------------------------------------------------

  private async pushLayers(plan: ManifestPlan, name: string): Promise<void> {
    const unique = new Map<string, { desc: Descriptor; id: string }>();
    for (const { desc, diffId } of plan.layers) if (!unique.has(desc.digest.hex)) unique.set(desc.digest.hex, { desc, id: diffId.short });
    // docker lists the top layer first.
    const layers = [...unique.values()].reverse();
    for (const { id } of layers) this.emit({ id, status: "Preparing" });
    for (const { id } of layers) this.emit({ id, status: "Waiting" });
    const abort = (reason: unknown) => this.controller.abort(reason);
    await runPool(layers, this.concurrency, this.signal, abort, async ({ desc, id }) => {
      const outcome = await this.pushBlob(desc, id, name);
      this.layerOutcomes.set(desc.digest.hex, outcome);
    });
  }

  /** One blob, once per push: skipped when the registry has it, else mounted or uploaded. */
  private pushBlob(desc: Descriptor, id?: string, name?: string): Promise<BlobOutcome> {
    const key = desc.digest.hex;
    const earlier = this.blobs.get(key);
    if (earlier) {
      return earlier.then((outcome) => {
        if (id) this.emit({ id, status: "Layer already exists" });
        return outcome;
      });
    }
    const pending = this.sendBlob(desc, id, name);
    this.blobs.set(key, pending);
    // A failed blob is not remembered: the push stops anyway.
    pending.catch(() => this.blobs.delete(key));
    return pending;
  }

  private async sendBlob(desc: Descriptor, id: string | undefined, name = ""): Promise<BlobOutcome> {
    const { digest } = desc;
    const emit = (status: PushLayerEvent["status"]) => id && this.emit({ id, status });
    if (await this.client.blobExists(this.repo, digest, { signal: this.signal })) {
      emit("Layer already exists");
      return "exists";
    }
    const stat = await this.options.blobs.stat(digest);
    if (!stat) {
      throw new EngineError(
        "NOT_FOUND",
        `blob ${digest.toString()} of ${name || "the image"} is missing from the blob store: cannot push it`,
      );
    }
    if (stat.size !== desc.size) {
      throw new EngineError("CONFLICT", `blob ${digest.toString()} is ${stat.size} bytes in the store, but the manifest says ${desc.size}`);
    }
    const attempts = this.options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.uploadOnce(desc, stat.size, id);
      } catch (err) {
        if (this.signal.aborted || attempt >= attempts || !retryable(err)) throw err;
      }
    }
  }

  private async uploadOnce(desc: Descriptor, size: number, id: string | undefined): Promise<BlobOutcome> {
    const { digest } = desc;
    // Configs are never mounted: they are small, and docker does not either.
    const from = id ? this.mountFrom[0] : undefined;
    const start = await this.client.startUpload(this.repo, {
      mount: from ? { digest, from } : undefined,
      signal: this.signal,
    });
    if (start.mounted) {
      if (id) this.emit({ id, status: `Mounted from ${from!}` });
      return "mounted";
    }
    const report = id ? uploadReporter(id, size, (e) => this.emit(e)) : undefined;
    let sent = 0;
    try {
      await this.client.uploadBlob(
        this.repo,
        start.location,
        digest,
        { size, open: (range) => this.options.blobs.open(digest, range), file: localBlobFile(this.options.blobs, digest) },
        {
          chunkSize: this.options.chunkSize,
          signal: this.signal,
          onProgress: (n) => {
            // n restarts when a chunk is sent again: count what actually went out.
            this.bytesUploaded += n > sent ? n - sent : 0;
            sent = Math.max(sent, n);
            report?.(n);
          },
        },
      );
    } catch (err) {
      void this.client.cancelUpload(this.repo, start.location);
      throw err;
    }
    if (id) this.emit({ id, status: "Pushed" });
    return "pushed";
  }

  private emit(event: PushProgressEvent): void {
    this.options.onProgress?.(event);
  }
}

function retryable(err: unknown): boolean {
  if (err instanceof RegistryError) return err.kind === "unavailable" || err.kind === "timeout";
  return isRetryableError(err);
}
