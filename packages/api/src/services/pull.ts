import {
  familiarName,
  familiarString,
  gcBlobs,
  normalizedName,
  parseReference,
  pullFinalStatus,
  pullImage,
  setTagChecked,
  withDefaultTag,
  type Digest,
  type ImageReference,
  type Platform,
  type PullImageError,
  type PullImageResult,
} from "@berth/engine";
import { PrismaMetadataStore, type Transaction } from "@berth/db";
import type { ClientInterface } from "../context";
import { audited, recordFailure } from "../audit/record";
import { endpointName, explainMirrorsOnly, registryAccess, type RegistryAccess } from "./registry-access";
import { TagProtection } from "./tag-protection";
import { checkedLayer } from "./layer-check";
import type { JobCtx, RunJobOptions } from "./job-kinds";

/** What a pull job stores as its input: the reference, and who asked from where (for the audit). */
export interface PullJobInput {
  ref: string;
  /** `os/arch[/variant]`. */
  platform?: string;
  interface: ClientInterface;
  ip: string | null;
  userAgent: string | null;
}

/** What a pull job stores as its result. */
export interface PullJobResult {
  images: { id: string; tags: string[] }[];
  manifestDigest: string;
  indexDigest: string | null;
  /** The endpoint that served the manifest, as a URL. */
  endpoint: string;
  bytes: number;
  durationMs: number;
  upToDate: boolean;
  /** docker's closing line. */
  status: string;
}

export type PullCtx = JobCtx;
export interface RunPullOptions extends RunJobOptions {
  /** Said in the audit event besides what was pulled (a mirror fill says so). */
  auditDetails?: Record<string, unknown>;
  /** Runs in the transaction that stores the image and writes the audit event (a mirror fill records itself). */
  alsoRecord?: (tx: Transaction, pulled: PulledRecord) => Promise<void>;
}

/** What a pull stored, for `alsoRecord`. */
export interface PulledRecord {
  images: { id: string; tags: string[] }[];
  manifestDigest: string;
  indexDigest: string | null;
  endpoint: string;
}

/** A reason to abort a pull that is not its failure (a server shutting down): not audited. */
export class PullInterrupted extends Error {
  constructor(message = "the server is shutting down; the pull will run again") {
    super(message);
    this.name = "PullInterrupted";
  }
}

/** `os/arch[/variant]` → Platform (the router has checked the shape). */
export function parsePlatform(value: string): Platform {
  const [os = "", architecture = "", variant] = value.split("/");
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * `docker pull` on the server: fetches the image into the blob store (verified) under the
 * shared blob lock, then stores it and sets its tag in one transaction with the audit event.
 * A tag that moves leaves the previous image dangling; a protected tag is not moved (the pull is
 * refused and audited as denied) unless an admin pulls. On failure the blobs this pull added
 * are collected once no load or pull is running, and the failure is audited.
 */
export async function runPull(ctx: PullCtx, input: PullJobInput, opts: RunPullOptions = {}): Promise<PullJobResult> {
  const ref = parseReference(input.ref);
  const display = familiarString(ref.digest ? ref : withDefaultTag(ref));
  const spec = { action: "image.pull", targets: [{ ref: display }], details: opts.auditDetails };
  const started = performance.now();
  let leftovers: Digest[] = [];
  try {
    let access: RegistryAccess;
    try {
      access = await registryAccess(ctx.services, ref.domain);
    } catch (err) {
      // Settings that cannot be used (credentials sealed with another key) fail the pull, audited.
      await recordFailure(ctx, spec, err);
      throw err;
    }
    return await ctx.services.blobLock.shared(async () => {
      let pulled: PullImageResult;
      try {
        pulled = await pullImage({
          ref: input.ref,
          blobs: ctx.services.blobs,
          endpoints: access.pullEndpoints,
          onEndpointResult: (endpoint, result) => access.report(endpoint, result),
          platform: input.platform ? parsePlatform(input.platform) : undefined,
          knownLayer: (blob) => checkedLayer(ctx.services.db, blob),
          onProgress: (event) => opts.onProgress?.(event),
          finalStatus: false,
          signal: opts.signal,
        });
      } catch (err) {
        leftovers = (err as Partial<PullImageError>).createdBlobs ?? [];
        if (!opts.signal?.aborted) explainMirrorsOnly(access, err);
        if (!(opts.signal?.aborted && opts.signal.reason instanceof PullInterrupted)) {
          await recordFailure(ctx, { ...spec, details: { ...opts.auditDetails, endpoints: access.pullEndpoints.map(endpointName) } }, err);
        }
        throw err;
      }
      const details = {
        ...opts.auditDetails,
        endpoint: endpointName(pulled.endpoint),
        manifestDigest: pulled.manifestDigest.toString(),
        ...(pulled.indexDigest ? { indexDigest: pulled.indexDigest.toString() } : {}),
        bytes: pulled.bytesFetched,
      };
      try {
        let policy: TagProtection | undefined;
        const recorded = await audited<Recorded>(
          ctx,
          {
            ...spec,
            details,
            describe: (r: Recorded) => ({
              targets: r.targets,
              details: { durationMs: Math.round(performance.now() - started), ...policy?.auditDetails() },
            }),
          },
          async (tx) => {
            const r = await recordPulled(tx, ref, pulled, (policy = new TagProtection(tx, ctx.actor)));
            await opts.alsoRecord?.(tx, {
              images: r.images,
              manifestDigest: details.manifestDigest,
              indexDigest: pulled.indexDigest?.toString() ?? null,
              endpoint: details.endpoint,
            });
            return r;
          },
        );
        const status = pullFinalStatus(ref, recorded.upToDate);
        opts.onProgress?.({ status });
        return {
          images: recorded.images,
          manifestDigest: details.manifestDigest,
          indexDigest: pulled.indexDigest?.toString() ?? null,
          endpoint: details.endpoint,
          bytes: details.bytes,
          durationMs: Math.round(performance.now() - started),
          upToDate: recorded.upToDate,
          status,
        };
      } catch (err) {
        leftovers = pulled.createdBlobs;
        throw err;
      }
    });
  } finally {
    // Blobs only this pull wrote and nothing references: removed once no load or pull runs.
    if (leftovers.length > 0) {
      const candidates = leftovers;
      await ctx.services.blobLock.exclusive(() =>
        gcBlobs({ meta: new PrismaMetadataStore(ctx.services.db), blobs: ctx.services.blobs, candidates }),
      );
    }
  }
}

interface Recorded {
  images: { id: string; tags: string[] }[];
  targets: { ref: string; digestBefore: string | null; digestAfter: string }[];
  upToDate: boolean;
}

async function recordPulled(tx: Transaction, ref: ImageReference, pulled: PullImageResult, policy: TagProtection): Promise<Recorded> {
  const meta = new PrismaMetadataStore(tx);
  const out: Recorded = { images: [], targets: [], upToDate: true };
  for (const { image, repoTags } of pulled.images) {
    const created = await meta.putImage(image);
    const tags: string[] = [];
    for (const repoTag of repoTags) {
      const tagRef = parseReference(repoTag);
      const tag = tagRef.tag ?? "latest";
      const previous = await setTagChecked({ meta, repository: normalizedName(tagRef), tag, imageId: image.id, policy });
      const display = `${familiarName(tagRef)}:${tag}`;
      const before = previous?.imageId.toString() ?? null;
      if (before !== image.id.toString()) out.upToDate = false;
      out.targets.push({ ref: display, digestBefore: before, digestAfter: image.id.toString() });
      tags.push(display);
    }
    if (tags.length) {
      await meta.updateImage(image.id, { lastTagTime: new Date() });
    } else {
      // A pull by digest names no tag: up to date when the image was already there.
      if (created) out.upToDate = false;
      out.targets.push({ ref: familiarString(ref), digestBefore: created ? null : image.id.toString(), digestAfter: image.id.toString() });
    }
    out.images.push({ id: image.id.toString(), tags });
  }
  return out;
}
