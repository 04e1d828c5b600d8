import type { Digest } from "../digest";
import { familiarString, withDefaultTag, type ImageReference } from "../reference";

/** Per-layer states, in docker's words. "Pull complete" means fetched and diff_id verified. */
export type LayerStatus = "Waiting" | "Downloading" | "Verifying Checksum" | "Download complete" | "Pull complete" | "Already exists";

/** docker's pull progress, one layer (`id` = 12-character short digest of the layer blob). */
export interface PullLayerEvent {
  id: string;
  status: LayerStatus;
  /** Bytes received so far and the blob's size, while Downloading. */
  current?: number;
  total?: number;
}

/** A line about the whole pull: "Pulling from fixtures/app", "Digest: sha256:…", "Status: …". */
export interface PullStatusEvent {
  id?: undefined;
  status: string;
}

export type PullProgressEvent = PullLayerEvent | PullStatusEvent;

/**
 * docker's closing line. pullImage prints the "Downloaded newer image" form unless told not
 * to; a caller that knows the tag already pointed at this image prints the other one.
 */
export function pullFinalStatus(ref: ImageReference, upToDate: boolean): string {
  const name = familiarString(ref.digest ? { ...ref, tag: undefined } : withDefaultTag(ref));
  return upToDate ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}`;
}

const DOWNLOAD_EVENT_INTERVAL_MS = 100;

/** Downloading events at most every 100 ms per layer, plus the first and the last. */
export function downloadReporter(digest: Digest, total: number, emit: (event: PullLayerEvent) => void): (current: number) => void {
  let last = 0;
  let verifying = false;
  return (current) => {
    const now = performance.now();
    if (current < total && last !== 0 && now - last < DOWNLOAD_EVENT_INTERVAL_MS) return;
    last = now;
    emit({ id: digest.short, status: "Downloading", current, total });
    if (current === total && !verifying) {
      verifying = true;
      emit({ id: digest.short, status: "Verifying Checksum" });
    }
  };
}
