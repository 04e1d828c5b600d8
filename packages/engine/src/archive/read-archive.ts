import type { Readable } from "node:stream";

import type { BlobStore } from "../blob-store";
import { Digest } from "../digest";
import { EngineError, InvalidArchiveError } from "../errors";
import { ArchiveMembers } from "./archive-members";
import { blobPathHex, isMetadataName, isReadOnlyMetadata, linkTarget, normalizeMemberName } from "./member-paths";
import { resolveImages, type LoadedImage } from "./resolve-images";
import { storeMember } from "./store-member";
import { describeTarError, openTarInput, type TarEntry } from "./tar-input";

export type { LoadedImage } from "./resolve-images";

export interface ReadArchiveOptions {
  blobs: BlobStore;
  /** Cap for every JSON member (manifest.json, configs, index.json, manifests). Default 8 MiB. */
  maxJsonBytes?: number;
  signal?: AbortSignal;
  /**
   * Leave blobs this call created in the store on failure (listed in the error's
   * `createdBlobs`) and unused ones on success (`unusedBlobs`), for a caller that removes
   * them itself once it knows nothing else started using them (a concurrent load of the
   * same content may have).
   */
  deferCleanup?: boolean;
}

export interface ReadArchiveResult {
  images: LoadedImage[];
  /** Blobs this call added to the store (the rest were there already). */
  createdBlobs: Digest[];
  /** With `deferCleanup`: blobs this call created that no loaded image uses (left in the store). */
  unusedBlobs: Digest[];
}

/** Errors from readArchive carry the blobs it created (and has deleted again, unless `deferCleanup`). */
export type ReadArchiveError = Error & { createdBlobs: Digest[] };

const DEFAULT_MAX_JSON_BYTES = 8 * 1024 * 1024;

/**
 * Loads a `docker save` archive (legacy or Docker 25+) or an OCI image layout tar,
 * plain or gzip-compressed, in one pass: every member is streamed into the blob store
 * as it passes and the image descriptions are resolved once the tar has ended.
 * On failure, blobs this call created are deleted, so a bad upload leaves nothing behind.
 */
export async function readArchive(input: Readable, opts: ReadArchiveOptions): Promise<ReadArchiveResult> {
  const maxJsonBytes = opts.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  const members = new ArchiveMembers(opts.blobs, maxJsonBytes);
  const tarInput = openTarInput(input);
  const onAbort = () => tarInput.close(opts.signal?.reason as Error);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    opts.signal?.throwIfAborted();
    await readMembers(tarInput, members, { ...opts, maxJsonBytes });
    const images = await resolveImages(members, new Date());
    const { kept, unused } = await dropUnreferenced(opts.blobs, members, images, !opts.deferCleanup);
    return { images, createdBlobs: kept, unusedBlobs: unused };
  } catch (err) {
    tarInput.close();
    await tarInput.done;
    const createdBlobs = opts.deferCleanup ? createdDigests(members) : await deleteCreated(opts.blobs, members);
    const error = (opts.signal?.aborted ? (opts.signal.reason as Error) : err) as ReadArchiveError;
    if (typeof error === "object" && error !== null) error.createdBlobs = createdBlobs;
    throw error;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

async function readMembers(
  tarInput: ReturnType<typeof openTarInput>,
  members: ArchiveMembers,
  opts: ReadArchiveOptions & { maxJsonBytes: number },
): Promise<void> {
  let lastMember: string | undefined;
  let inside: string | undefined;
  let endOfLastMember = 0;
  try {
    for await (const entry of tarInput.entries) {
      inside = entry.header.name;
      const name = await readMember(entry, members, opts);
      inside = undefined;
      lastMember = name ?? entry.header.name;
      if (entry.header.byteOffset !== undefined) {
        endOfLastMember = entry.header.byteOffset + Math.ceil(entry.header.size / 512) * 512;
      }
    }
  } catch (err) {
    throw describeTarError(err, { inside, after: lastMember });
  }
  await tarInput.done;
  // tar-stream accepts input that stops exactly between two members; a real tar ends
  // with zero blocks, so their absence means the upload was cut off there.
  if (lastMember !== undefined && tarInput.tarBytes - endOfLastMember < 512) {
    throw new InvalidArchiveError(
      `the archive is truncated: it ends right after member "${lastMember}", without the end-of-archive marker`,
    );
  }
}

/** Handles one member; returns its normalised name (undefined for the archive root). */
async function readMember(
  entry: TarEntry,
  members: ArchiveMembers,
  opts: ReadArchiveOptions & { maxJsonBytes: number },
): Promise<string | undefined> {
  const { header } = entry;
  const name = normalizeMemberName(header.name);
  if (header.type === "directory" || name === "") {
    entry.resume();
    return name || undefined;
  }
  if (members.has(name)) throw new InvalidArchiveError(`member "${name}" appears twice`);

  if (header.type === "symlink" || header.type === "link") {
    const kind = header.type;
    if (isMetadataName(name)) {
      throw new InvalidArchiveError(`member "${name}" is a ${kind}; metadata files must be regular files`);
    }
    const target = header.linkname ?? "";
    linkTarget(name, target, kind); // rejects targets outside the archive right away
    members.byName.set(name, { kind: "link", type: kind, target });
    entry.resume();
    return name;
  }
  if (header.type !== "file" && header.type !== "contiguous-file") {
    throw new InvalidArchiveError(`member "${name}" is a ${header.type}, which has no place in an image archive`);
  }

  const json = isMetadataName(name);
  if (json && header.size > opts.maxJsonBytes) {
    throw new EngineError(
      "TOO_LARGE",
      `invalid archive: member "${name}" is ${header.size} bytes, more than the ${opts.maxJsonBytes}-byte limit for JSON`,
    );
  }
  if (isReadOnlyMetadata(name)) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk);
    members.byName.set(name, { kind: "metadata", bytes: Buffer.concat(chunks) });
    return name;
  }
  const hex = blobPathHex(name);
  const stored = await storeMember(name, entry, {
    blobs: opts.blobs,
    expectedDigest: hex ? Digest.fromHex(hex) : undefined,
    expectedSize: header.size,
    keepBytes: json,
    signal: opts.signal,
  });
  members.byName.set(name, { kind: "blob", stored });
  return name;
}

/** Successful load: keep only blobs some image uses (index blobs and strays go). */
async function dropUnreferenced(
  blobs: BlobStore,
  members: ArchiveMembers,
  images: LoadedImage[],
  remove: boolean,
): Promise<{ kept: Digest[]; unused: Digest[] }> {
  const used = new Set<string>();
  for (const { image } of images) {
    used.add(image.id.hex);
    if (image.manifestDigest) used.add(image.manifestDigest.hex);
    for (const layer of image.layers) used.add(layer.blob.hex);
  }
  const kept: Digest[] = [];
  const unused: Digest[] = [];
  for (const digest of createdDigests(members)) {
    if (used.has(digest.hex)) kept.push(digest);
    else if (remove) await blobs.delete(digest);
    else unused.push(digest);
  }
  return { kept, unused };
}

async function deleteCreated(blobs: BlobStore, members: ArchiveMembers): Promise<Digest[]> {
  const created = createdDigests(members);
  for (const digest of created) await blobs.delete(digest).catch(() => undefined);
  return created;
}

function createdDigests(members: ArchiveMembers): Digest[] {
  const created = new Map<string, Digest>();
  for (const member of members.byName.values()) {
    if (member.kind === "blob" && member.stored.created) created.set(member.stored.digest.hex, member.stored.digest);
  }
  return [...created.values()];
}
