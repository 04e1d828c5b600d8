import type { Readable } from "node:stream";
import {
  Digest,
  gcBlobs,
  parseTargetTag,
  prepareCommit,
  prepareImport,
  readImageFile,
  resolveImage,
  saveImage,
  type CommitFile,
  type PreparedImage,
  type SavedImage,
  type TargetTag,
} from "@berth/engine";
import { PrismaMetadataStore, type Transaction } from "@berth/db";
import type { Context } from "../context";
import { audited, recordFailure, type AuditTarget } from "../audit/record";
import { guard, type Check } from "../auth/guard";
import { TagProtection } from "./tag-protection";

type Ctx = Pick<Context, "services" | "request" | "actor" | "authFailure">;

/** What `berth import` / `berth commit` print: the new image ID (docker's only line), and the tag set. */
export interface ImageEditResult {
  id: string;
  /** `name:tag` when one was given. */
  tag: string | null;
  /** The image the tag pointed at before, now dangling unless tagged elsewhere. */
  previous: string | null;
  lines: string[];
}

export interface ImportRequest {
  /** `REPOSITORY[:TAG]`. */
  reference?: string;
  /** `-c` Dockerfile changes. */
  changes?: string[];
  message?: string;
  platform?: string;
  /** The file name given to the CLI, for the audit log (the history says "Imported from -" as docker does). */
  source?: string;
}

/**
 * `docker import`: the rootfs tarball becomes a one-layer image (written under the shared blob
 * lock), recorded and tagged in one transaction with its `image.import` audit event. Needs `load` in
 * the target's namespace, checked before the upload is read. On failure nothing is kept.
 */
export async function importImageFor(ctx: Ctx, input: Readable, request: ImportRequest): Promise<ImageEditResult> {
  const details = {
    source: request.source ?? "-",
    platform: request.platform || "linux/amd64",
    changes: request.changes ?? [],
    message: request.message ?? null,
  };
  return editImage(ctx, {
    action: "image.import",
    reference: request.reference,
    details,
    checks: [],
    prepare: () =>
      prepareImport({ store: ctx.services.blobs, input, platform: request.platform, changes: request.changes, message: request.message }),
  });
}

export interface CommitRequest {
  /** The base image (name[:tag], ID or ID prefix). */
  base: string;
  reference?: string;
  /** `-c` Dockerfile changes. */
  changes?: string[];
  message?: string;
  author?: string;
  /** Paths to delete in the new layer (whiteouts). */
  deletes?: string[];
  /** Small files written whole (the dashboard's editor). */
  files?: CommitFile[];
}

/**
 * `docker commit` without a container: base image + a changes tarball (optional) + deletes + files →
 * one more layer, recorded and tagged in one transaction with its `image.commit` audit event. Needs
 * `read` on the base and `load` in the target's namespace. On failure nothing is kept.
 */
export async function commitImageFor(ctx: Ctx, changes: Readable | null, request: CommitRequest): Promise<ImageEditResult> {
  const details = {
    base: request.base,
    changes: request.changes ?? [],
    message: request.message ?? null,
    author: request.author ?? null,
    deletes: request.deletes ?? [],
    files: (request.files ?? []).map((f) => f.path),
    tarball: changes !== null,
  };
  return editImage(ctx, {
    action: "image.commit",
    reference: request.reference,
    details,
    checks: [{ ref: request.base, action: "read" }],
    prepare: () =>
      prepareCommit({
        store: ctx.services.blobs,
        meta: new PrismaMetadataStore(ctx.services.db),
        base: request.base,
        changes: changes ?? undefined,
        deletes: request.deletes,
        files: request.files,
        author: request.author,
        message: request.message,
        configChanges: request.changes,
      }),
  });
}

interface EditSpec {
  action: "image.import" | "image.commit";
  reference: string | undefined;
  details: Record<string, unknown>;
  /** Checked besides `load` on the target. */
  checks: Check[];
  /** Writes the blobs (outside any transaction: an upload may take minutes). */
  prepare: () => Promise<PreparedImage>;
}

async function editImage(ctx: Ctx, spec: EditSpec): Promise<ImageEditResult> {
  const base = { action: spec.action, details: spec.details, targets: spec.reference ? [{ ref: spec.reference }] : [] };
  let target: TargetTag | undefined;
  try {
    target = spec.reference ? parseTargetTag(spec.reference) : undefined;
  } catch (err) {
    await recordFailure(ctx, base, err);
    throw err;
  }
  const loadCheck: Check = target ? { ref: target.display } : { namespace: null };
  await guard(ctx, "load", [loadCheck, ...spec.checks], { audit: spec.action, auditAnonymous: true, details: spec.details });

  let leftovers: Digest[] = [];
  try {
    return await ctx.services.blobLock.shared(async () => {
      let prepared: PreparedImage;
      try {
        prepared = await spec.prepare();
      } catch (err) {
        await recordFailure(ctx, base, err);
        throw err;
      }
      // Until the transaction commits, the new blobs belong to nothing: collected if it fails.
      leftovers = [...prepared.writtenBlobs, Digest.of(Buffer.from(JSON.stringify(prepared.config)))];
      let policy: TagProtection | undefined;
      const saved = await audited(
        ctx,
        {
          ...base,
          describe: (r: SavedImage) => ({
            targets: describeTargets(r),
            details: { ...policy?.auditDetails(), imageId: r.image.id.toString(), parentId: r.image.parentId?.toString() ?? null },
          }),
        },
        (tx: Transaction) =>
          saveImage(ctx.services.blobs, new PrismaMetadataStore(tx), prepared, {
            target,
            policy: (policy = new TagProtection(tx, ctx.actor)),
          }),
      );
      leftovers = [];
      const id = saved.image.id.toString();
      const previous =
        saved.tagged?.previous && !saved.tagged.previous.imageId.equals(saved.image.id) ? saved.tagged.previous.imageId.toString() : null;
      return { id, tag: saved.tagged?.display ?? null, previous, lines: [id] };
    });
  } finally {
    if (leftovers.length > 0) {
      const candidates = leftovers;
      await ctx.services.blobLock.exclusive(() =>
        gcBlobs({ meta: new PrismaMetadataStore(ctx.services.db), blobs: ctx.services.blobs, candidates }),
      );
    }
  }
}

function describeTargets(saved: SavedImage): AuditTarget[] {
  const id = saved.image.id.toString();
  if (!saved.tagged) return [{ ref: id, digestAfter: id }];
  return [{ ref: saved.tagged.display, digestBefore: saved.tagged.previous?.imageId.toString() ?? null, digestAfter: id }];
}

/** What the dashboard's editor shows of one path: its metadata and, for a small file, its content (base64). */
export interface ImageFileView {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  target: string | null;
  /** base64; null for directories, links to nothing, and files over the limit. */
  content: string | null;
  tooLarge: boolean;
}

/** Reads one path of an image as its layers leave it (null when it does not exist). */
export async function readImageFileFor(
  ctx: Pick<Context, "services">,
  ref: string,
  path: string,
  maxBytes: number,
): Promise<ImageFileView | null> {
  const image = await resolveImage({ meta: new PrismaMetadataStore(ctx.services.db), ref });
  const file = await readImageFile(ctx.services.blobs, image, path, maxBytes);
  if (!file) return null;
  return {
    path: `/${file.path}`,
    type: file.type,
    mode: file.mode,
    uid: file.uid,
    gid: file.gid,
    size: file.size,
    target: file.target ?? null,
    content: file.content ? file.content.toString("base64") : null,
    tooLarge: file.tooLarge ?? false,
  };
}
