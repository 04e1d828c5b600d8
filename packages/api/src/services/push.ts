import {
  familiarName,
  familiarString,
  parseReference,
  pushImage,
  resolvePushTargets,
  withDefaultTag,
  type PushImageResult,
} from "@berth/engine";
import { PrismaMetadataStore } from "@berth/db";
import { audited, recordFailure } from "../audit/record";
import { endpointName, registryAccess } from "./registry-access";
import { PullInterrupted } from "./pull";
import type { JobCtx, JobOrigin, RunJobOptions } from "./job-kinds";

/** What a push job stores as its input: the reference (and `-a`), and who asked from where. */
export interface PushJobInput extends JobOrigin {
  ref: string;
  /** docker push -a: every tag of the repository. */
  allTags?: boolean;
}

/** What a push job stores as its result. */
export interface PushJobResult {
  /** `127.0.0.1:5000/team/app`, as docker names it. */
  repository: string;
  tags: { tag: string; imageId: string; manifestDigest: string; size: number }[];
  /** The registry pushed to, as a URL. */
  endpoint: string;
  bytes: number;
  layersPushed: number;
  layersSkipped: number;
  layersMounted: number;
  durationMs: number;
}

/**
 * `docker push` on the server: resolves the tags to push, then uploads what the registry lacks
 * straight from the blob store (held shared, so a collection cannot remove a blob mid-push)
 * with the team's credentials for that registry. Success and failure are audited.
 */
export async function runPush(ctx: JobCtx, input: PushJobInput, opts: RunJobOptions = {}): Promise<PushJobResult> {
  const parsed = parseReference(input.ref);
  const display = input.allTags ? familiarName(parsed) : familiarString(parsed.digest ? parsed : withDefaultTag(parsed));
  const spec = { action: "image.push", targets: [{ ref: display }] };
  const started = performance.now();
  let endpoint: string | undefined;
  let pushed: PushImageResult;
  let imageIds: Map<string, string>;
  try {
    const access = await registryAccess(ctx.services, parsed.domain);
    endpoint = endpointName(access.origin);
    ({ pushed, imageIds } = await ctx.services.blobLock.shared(async () => {
      const targets = await resolvePushTargets({ meta: new PrismaMetadataStore(ctx.services.db), ref: input.ref, allTags: input.allTags });
      const result = await pushImage({
        blobs: ctx.services.blobs,
        repository: targets.repository,
        tags: targets.tags,
        mountFrom: targets.mountFrom,
        endpoint: access.origin,
        onProgress: (event) => opts.onProgress?.(event),
        signal: opts.signal,
      });
      return { pushed: result, imageIds: new Map(targets.tags.map((t) => [t.tag, t.image.id.toString()])) };
    }));
  } catch (err) {
    if (!(opts.signal?.aborted && opts.signal.reason instanceof PullInterrupted)) {
      await recordFailure(ctx, { ...spec, details: endpoint ? { endpoint } : {} }, err);
    }
    throw err;
  }
  const name = familiarName(parsed);
  const result: PushJobResult = {
    repository: name,
    tags: pushed.tags.map((t) => ({
      tag: t.tag,
      imageId: imageIds.get(t.tag) ?? "",
      manifestDigest: t.digest.toString(),
      size: t.size,
    })),
    endpoint,
    bytes: pushed.bytesUploaded,
    layersPushed: pushed.layersPushed,
    layersSkipped: pushed.layersSkipped,
    layersMounted: pushed.layersMounted,
    durationMs: Math.round(performance.now() - started),
  };
  const { tags, repository: _repository, ...totals } = result;
  await audited(
    ctx,
    {
      ...spec,
      targets: tags.map((t) => ({ ref: `${name}:${t.tag}`, digestBefore: null, digestAfter: t.imageId })),
      details: {
        ...totals,
        manifestDigest: tags.length === 1 ? tags[0]!.manifestDigest : undefined,
        manifests: Object.fromEntries(tags.map((t) => [t.tag, t.manifestDigest])),
      },
    },
    () => Promise.resolve(result),
  );
  return result;
}
