import { ConflictError, Digest, NoSuchImageError } from "@berth/engine";
import type { ImageRecord, LayerRecord, MetadataStore, TagRecord } from "@berth/engine";
import type { DbClient } from "./client";
import { inTransaction } from "./client";
import type { Prisma } from "./generated/prisma/client";

type ImageRow = Prisma.ImageGetPayload<{ include: { layers: true } }>;
type LayerRow = ImageRow["layers"][number];

interface TagRow {
  repository: string;
  tag: string;
  image_id: string;
  updated_at: Date;
}

const withLayers = { layers: { orderBy: { position: "asc" } } } as const;

/**
 * How long a blob pushed through /v2/ may wait for the manifest that names it before collection
 * may take it: far longer than any push between its first layer and its manifest.
 */
export const AWAITING_MANIFEST_HOURS = 24;

/**
 * The engine's MetadataStore over PostgreSQL. Give it the application's client, or the
 * transaction client of `prisma.$transaction(async (tx) => …)` so that an operation and its
 * audit event commit together. Methods that need several statements run them in one
 * transaction either way, and never leave a transaction aborted by an expected condition.
 */
export class PrismaMetadataStore implements MetadataStore {
  constructor(private readonly db: DbClient) {}

  async getImage(id: Digest): Promise<ImageRecord | undefined> {
    const row = await this.db.image.findUnique({
      where: { id: id.toString() },
      include: withLayers,
    });
    return row ? toImageRecord(row) : undefined;
  }

  async findImageIds(hexPrefix: string, limit: number): Promise<Digest[]> {
    const prefix = hexPrefix.toLowerCase();
    // Anything but hex cannot prefix an ID.
    if (!/^[a-f0-9]*$/.test(prefix) || limit <= 0) return [];
    // Byte order (COLLATE "C"), as the in-memory store sorts.
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT id FROM images WHERE starts_with(id, ${`sha256:${prefix}`})
      ORDER BY id COLLATE "C" LIMIT ${Math.trunc(limit)}`;
    return rows.map((row) => Digest.parse(row.id));
  }

  async listImages(): Promise<ImageRecord[]> {
    const rows = await this.db.image.findMany({
      include: withLayers,
      orderBy: [{ loadedAt: "desc" }, { id: "asc" }],
    });
    return rows.map(toImageRecord);
  }

  async putImage(image: ImageRecord): Promise<boolean> {
    return inTransaction(this.db, async (tx) => {
      // ON CONFLICT DO NOTHING: a duplicate must not abort the caller's transaction.
      const { count } = await tx.image.createMany({
        data: [
          {
            id: image.id.toString(),
            created: image.created,
            architecture: image.architecture,
            os: image.os,
            variant: image.variant,
            size: toBigInt(image.size, "size"),
            configSize: toBigInt(image.configSize, "configSize"),
            labels: image.labels,
            parentId: image.parentId?.toString() ?? null,
            manifestDigest: image.manifestDigest?.toString() ?? null,
            manifestMediaType: image.manifestMediaType,
            pinned: image.pinned,
            loadedAt: image.loadedAt,
            lastTagTime: image.lastTagTime,
          },
        ],
        skipDuplicates: true,
      });
      if (count === 0) return false;
      if (image.layers.length > 0) {
        await tx.imageLayer.createMany({
          data: image.layers.map((layer, position) => ({
            imageId: image.id.toString(),
            position,
            diffId: layer.diffId.toString(),
            blob: layer.blob.toString(),
            blobSize: toBigInt(layer.blobSize, "blobSize"),
            size: toBigInt(layer.size, "size"),
            mediaType: layer.mediaType,
          })),
        });
      }
      return true;
    });
  }

  async updateImage(id: Digest, patch: Partial<Pick<ImageRecord, "pinned" | "lastTagTime">>): Promise<void> {
    const data: Prisma.ImageUpdateManyMutationInput = {};
    if (patch.pinned !== undefined) data.pinned = patch.pinned;
    if (patch.lastTagTime !== undefined) data.lastTagTime = patch.lastTagTime;
    // An absent image is not an error (as in the in-memory store): there is nothing to update.
    await this.db.image.updateMany({ where: { id: id.toString() }, data });
  }

  async deleteImage(id: Digest): Promise<Digest[]> {
    return inTransaction(this.db, async (tx) => {
      // Checked first: the foreign key would refuse too, but abort the caller's transaction.
      const tags = await tx.tag.count({ where: { imageId: id.toString() } });
      if (tags > 0) {
        throw new ConflictError(`image ${id.short} is still tagged (${tags} tags); remove its tags first`);
      }
      // An index listing it that is still tagged keeps it; an untagged one goes first (the
      // engine asks imagesInIndexes before deleting, so this is a last line of defence).
      const held = await tx.manifestIndex.count({ where: { children: { some: { imageId: id.toString() } }, tags: { some: {} } } });
      if (held > 0) throw new ConflictError(`image ${id.short} is part of a tagged multi-platform index; remove that tag first`);
      const indexes = await tx.manifestIndex.findMany({
        where: { children: { some: { imageId: id.toString() } } },
        select: { digest: true },
      });
      await tx.manifestIndex.deleteMany({ where: { children: { some: { imageId: id.toString() } } } });
      const manifests = await tx.imageManifest.findMany({ where: { imageId: id.toString() }, select: { digest: true } });
      // Layer and manifest rows go with it (ON DELETE CASCADE).
      await tx.image.deleteMany({ where: { id: id.toString() } });
      return [...indexes, ...manifests].map((row) => Digest.parse(row.digest));
    });
  }

  async getTag(repository: string, tag: string): Promise<TagRecord | undefined> {
    const row = await this.db.tag.findUnique({ where: { repository_tag: { repository, tag } } });
    return row
      ? toTagRecord({
          repository: row.repository,
          tag: row.tag,
          image_id: row.imageId,
          updated_at: row.updatedAt,
        })
      : undefined;
  }

  async listTags(filter: { imageId?: Digest; repository?: string } = {}): Promise<TagRecord[]> {
    const rows = await this.db.tag.findMany({
      where: {
        ...(filter.imageId ? { imageId: filter.imageId.toString() } : {}),
        ...(filter.repository !== undefined ? { repository: filter.repository } : {}),
      },
    });
    // Sorted here in code-unit order: the database's collation would order punctuation differently.
    return rows
      .sort((a, b) => compare(a.repository, b.repository) || compare(a.tag, b.tag))
      .map((row) =>
        toTagRecord({
          repository: row.repository,
          tag: row.tag,
          image_id: row.imageId,
          updated_at: row.updatedAt,
        }),
      );
  }

  async setTag(repository: string, tag: string, imageId: Digest): Promise<TagRecord | undefined> {
    const image = imageId.toString();
    return inTransaction(this.db, async (tx) => {
      const exists = await tx.image.count({ where: { id: image } });
      if (exists === 0) throw new NoSuchImageError(image);
      // Lock the current row (if any) to report exactly what this call replaced. If another
      // transaction inserts the tag between our SELECT and INSERT, the INSERT does nothing and
      // the next round finds (and locks) the committed row.
      for (;;) {
        const [previous] = await tx.$queryRaw<TagRow[]>`
          SELECT repository, tag, image_id, updated_at FROM tags
          WHERE repository = ${repository} AND tag = ${tag} FOR UPDATE`;
        if (previous) {
          // A tag set to an image no longer names the index or manifest it was pushed with.
          await tx.$executeRaw`
            UPDATE tags SET image_id = ${image}, index_digest = NULL, manifest_digest = NULL, updated_at = clock_timestamp()
            WHERE repository = ${repository} AND tag = ${tag}`;
          return toTagRecord(previous);
        }
        const inserted = await tx.$executeRaw`
          INSERT INTO tags (repository, tag, image_id, created_at, updated_at)
          VALUES (${repository}, ${tag}, ${image}, clock_timestamp(), clock_timestamp())
          ON CONFLICT (repository, tag) DO NOTHING`;
        if (inserted === 1) return undefined;
      }
    });
  }

  async deleteTag(repository: string, tag: string): Promise<void> {
    await this.db.tag.deleteMany({ where: { repository, tag } });
  }

  /**
   * Besides images, indexes and artifacts, a build job that has not finished holds its uploaded
   * context; `exceptJob` leaves out the job asking (it is done with its own context). So does a
   * push through /v2/ that has not sent its manifest yet (unless `uploads` is false): an open
   * upload session's chunks, and blobs uploaded or mounted to a repository in the last
   * AWAITING_MANIFEST_HOURS that no manifest pushed there names yet.
   */
  async isBlobReferenced(blob: Digest, options: { exceptJob?: string; uploads?: boolean } = {}): Promise<boolean> {
    const digest = blob.toString();
    const exceptJob = options.exceptJob ?? "00000000-0000-0000-0000-000000000000";
    const uploads = options.uploads ?? true;
    const [row] = await this.db.$queryRaw<{ referenced: boolean }[]>`
      SELECT (${uploads} AND (
               EXISTS (SELECT 1 FROM repository_content WHERE digest = ${digest}
                         AND awaiting_manifest_since > now() - ${AWAITING_MANIFEST_HOURS} * interval '1 hour')
            OR EXISTS (SELECT 1 FROM registry_uploads WHERE chunks @> jsonb_build_array(jsonb_build_object('digest', ${digest}::text)))))
          OR EXISTS (SELECT 1 FROM images WHERE id = ${digest} OR manifest_digest = ${digest})
          OR EXISTS (SELECT 1 FROM jobs WHERE kind = 'build' AND state IN ('queued', 'running')
                       AND input->>'contextDigest' = ${digest} AND id <> ${exceptJob}::uuid)
          OR EXISTS (SELECT 1 FROM image_layers WHERE blob = ${digest})
          OR EXISTS (SELECT 1 FROM manifest_indexes WHERE digest = ${digest})
          OR EXISTS (SELECT 1 FROM image_manifests WHERE digest = ${digest})
          OR EXISTS (SELECT 1 FROM artifacts WHERE digest = ${digest} OR blobs @> ARRAY[${digest}]) AS referenced`;
    return row?.referenced === true;
  }

  async forgetBlob(blob: Digest): Promise<void> {
    // Which repositories were pushed it (registry-api/repository-content.ts): bytes that come
    // back later are held by whoever pushes or names them then.
    await this.db.repositoryContent.deleteMany({ where: { digest: blob.toString() } });
  }

  async imagesInIndexes(): Promise<Digest[]> {
    const rows = await this.db.manifestIndexChild.findMany({
      where: { index: { tags: { some: {} } } },
      select: { imageId: true },
      distinct: ["imageId"],
    });
    return rows.map((r) => Digest.parse(r.imageId));
  }

  async isImageInTaggedIndex(id: Digest): Promise<boolean> {
    const row = await this.db.manifestIndexChild.findFirst({
      where: { imageId: id.toString(), index: { tags: { some: {} } } },
      select: { imageId: true },
    });
    return row !== null;
  }
}

function toImageRecord(row: ImageRow): ImageRecord {
  return {
    id: Digest.parse(row.id),
    created: row.created,
    architecture: row.architecture,
    os: row.os,
    variant: row.variant,
    size: toNumber(row.size, "size"),
    configSize: toNumber(row.configSize, "config_size"),
    layers: row.layers.map(toLayerRecord),
    labels: toLabels(row.labels),
    parentId: row.parentId === null ? null : Digest.parse(row.parentId),
    manifestDigest: row.manifestDigest === null ? null : Digest.parse(row.manifestDigest),
    manifestMediaType: row.manifestMediaType,
    pinned: row.pinned,
    loadedAt: row.loadedAt,
    lastTagTime: row.lastTagTime,
  };
}

function toLayerRecord(row: LayerRow): LayerRecord {
  return {
    diffId: Digest.parse(row.diffId),
    blob: Digest.parse(row.blob),
    blobSize: toNumber(row.blobSize, "blob_size"),
    size: toNumber(row.size, "size"),
    mediaType: row.mediaType,
  };
}

function toTagRecord(row: TagRow): TagRecord {
  return {
    repository: row.repository,
    tag: row.tag,
    imageId: Digest.parse(row.image_id),
    updatedAt: row.updated_at,
  };
}

function toLabels(value: Prisma.JsonValue): Record<string, string> {
  const labels: Record<string, string> = {};
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, label] of Object.entries(value)) {
      if (typeof label === "string") labels[key] = label;
    }
  }
  return labels;
}

function toBigInt(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
  }
  return BigInt(value);
}

function toNumber(value: bigint, field: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new RangeError(`${field} ${value} exceeds Number.MAX_SAFE_INTEGER`);
  return number;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
