import { createHash } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { createGunzip } from "node:zlib";

import { pack as tarPack } from "tar-stream";

import type { BlobStore } from "../blob-store";
import { Digest } from "../digest";
import { DigestMismatchError, EngineError, SizeMismatchError } from "../errors";
import { MediaType } from "../media-types";
import type { ImageRecord, LayerRecord } from "../metadata";

export interface WriteArchiveOptions {
  blobs: BlobStore;
  out: Writable;
  signal?: AbortSignal;
}

/** Configs are small; this only guards against a corrupt store. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
/** Fixed mtime keeps archives of the same images byte-identical. */
const MTIME = new Date(0);

type PackSink = {
  write(chunk: Buffer): boolean;
  end(): void;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
};
type Pack = ReturnType<typeof tarPack>;

/**
 * Writes images as Docker 25+ `docker save` does: an OCI image layout (blobs/sha256,
 * index.json, oci-layout) plus manifest.json and repositories, which both `docker load`
 * and skopeo read. Layers go out uncompressed (docker's archive form), streamed from the
 * store and gunzipped on the fly when stored compressed; each is written once.
 */
export async function writeArchive(images: { image: ImageRecord; repoTags: string[] }[], opts: WriteArchiveOptions): Promise<void> {
  const pack = tarPack();
  const piped = new Promise<void>((resolve, reject) => {
    pack.pipe(opts.out as never, (err?: Error | null) => (err ? reject(err) : resolve()));
  });
  const onAbort = () => pack.destroy(opts.signal?.reason as Error);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    opts.signal?.throwIfAborted();
    await writeEntries(pack, images, opts);
    pack.finalize();
    await piped;
  } catch (err) {
    pack.destroy(err as Error);
    await piped.catch(() => undefined);
    throw opts.signal?.aborted ? opts.signal.reason : err;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

async function writeEntries(pack: Pack, images: { image: ImageRecord; repoTags: string[] }[], opts: WriteArchiveOptions): Promise<void> {
  const written = new Set<string>();
  const manifestJson: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const indexEntries: object[] = [];
  const repositories: Record<string, Record<string, string>> = {};

  await addDirectory(pack, "blobs/");
  await addDirectory(pack, "blobs/sha256/");
  for (const { image, repoTags } of images) {
    if (!written.has(image.id.hex)) {
      const config = await opts.blobs.read(image.id, MAX_CONFIG_BYTES);
      await addBuffer(pack, blobPath(image.id), config);
      written.add(image.id.hex);
    }
    for (const layer of image.layers) {
      if (written.has(layer.diffId.hex)) continue;
      await addLayer(pack, layer, opts);
      written.add(layer.diffId.hex);
    }

    const manifest = Buffer.from(JSON.stringify(ociManifest(image)));
    const manifestDigest = Digest.of(manifest);
    if (!written.has(manifestDigest.hex)) {
      await addBuffer(pack, blobPath(manifestDigest), manifest);
      written.add(manifestDigest.hex);
    }
    const descriptor = { mediaType: MediaType.ociManifest, digest: manifestDigest.toString(), size: manifest.length };
    if (repoTags.length === 0) indexEntries.push(descriptor);
    for (const repoTag of repoTags) {
      const { repository, tag } = splitRepoTag(repoTag);
      indexEntries.push({
        ...descriptor,
        annotations: {
          "io.containerd.image.name": fullyQualified(repository, tag),
          "org.opencontainers.image.ref.name": tag,
        },
      });
      (repositories[repository] ??= {})[tag] = image.id.hex;
    }
    manifestJson.push({
      Config: blobPath(image.id),
      RepoTags: repoTags,
      Layers: image.layers.map((layer) => blobPath(layer.diffId)),
    });
  }

  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexEntries };
  await addBuffer(pack, "index.json", Buffer.from(JSON.stringify(index)));
  await addBuffer(pack, "manifest.json", Buffer.from(JSON.stringify(manifestJson)));
  await addBuffer(pack, "oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
  await addBuffer(pack, "repositories", Buffer.from(JSON.stringify(repositories)));
}

/** Layers in the manifest are the uncompressed tars, so digest = diff_id. */
function ociManifest(image: ImageRecord): object {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: image.id.toString(), size: image.configSize },
    layers: image.layers.map((layer) => ({
      mediaType: MediaType.ociLayerTar,
      digest: layer.diffId.toString(),
      size: layer.size,
    })),
  };
}

async function addLayer(pack: Pack, layer: LayerRecord, opts: WriteArchiveOptions): Promise<void> {
  const stored = await opts.blobs.open(layer.blob);
  const gzip = !layer.blob.equals(layer.diffId);
  const source: Readable = gzip ? stored.pipe(createGunzip()) : stored;
  if (gzip) stored.on("error", (err) => source.destroy(err));
  const what = `layer ${layer.diffId.toString()}`;
  const hash = createHash("sha256");
  let size = 0;
  let sink!: PackSink;
  const entryDone = new Promise<void>((resolve, reject) => {
    const header = { name: blobPath(layer.diffId), size: layer.size, mode: 0o444, mtime: MTIME };
    sink = pack.entry(header, (err?: Error | null) => (err ? reject(err) : resolve())) as unknown as PackSink;
  });
  entryDone.catch(() => undefined); // awaited below; a failure before that is reported by the loop
  try {
    for await (const chunk of source) {
      opts.signal?.throwIfAborted();
      const buf = chunk as Buffer;
      size += buf.byteLength;
      // Past the header's size the tar would be corrupt: stop before writing it.
      if (size > layer.size) throw new SizeMismatchError(what, layer.size, size);
      hash.update(buf);
      if (!sink.write(buf)) await drained(sink);
    }
  } catch (err) {
    stored.destroy();
    source.destroy();
    throw wrapStoreError(err, what);
  }
  if (size !== layer.size) throw new SizeMismatchError(what, layer.size, size);
  const diffId = Digest.fromHex(hash.digest("hex"));
  // The bytes are already out, but the archive must not finish as if they were right.
  if (!diffId.equals(layer.diffId)) throw new DigestMismatchError(what, layer.diffId.toString(), diffId.toString());
  sink.end();
  await entryDone;
}

function wrapStoreError(err: unknown, what: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code === "string" && code.startsWith("Z_")) {
    return new EngineError("DIGEST_MISMATCH", `${what}: the stored blob is not valid gzip (${(err as Error).message})`);
  }
  return err;
}

function addBuffer(pack: Pack, name: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, size: data.length, mode: 0o444, mtime: MTIME }, data, (err?: Error | null) => (err ? reject(err) : resolve()));
  });
}

function addDirectory(pack: Pack, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, type: "directory", mode: 0o755, mtime: MTIME }, (err?: Error | null) => (err ? reject(err) : resolve()));
  });
}

function drained(sink: PackSink): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      sink.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      sink.off("drain", onDrain);
      reject(new Error("archive stream closed"));
    };
    sink.once("drain", onDrain);
    sink.once("close", onClose);
  });
}

function blobPath(digest: Digest): string {
  return `blobs/sha256/${digest.hex}`;
}

/** "fixtures/app:1.0" → repository "fixtures/app", tag "1.0" (a ":" after the last "/" starts the tag). */
function splitRepoTag(repoTag: string): { repository: string; tag: string } {
  const colon = repoTag.lastIndexOf(":");
  if (colon > repoTag.lastIndexOf("/")) return { repository: repoTag.slice(0, colon), tag: repoTag.slice(colon + 1) };
  return { repository: repoTag, tag: "latest" };
}

/** containerd's image name is fully qualified: docker.io/library/redis:7. */
function fullyQualified(repository: string, tag: string): string {
  const first = repository.split("/")[0]!;
  const hasRegistry = repository.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return `${repository}:${tag}`;
  return repository.includes("/") ? `docker.io/${repository}:${tag}` : `docker.io/library/${repository}:${tag}`;
}
