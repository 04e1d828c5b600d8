import type { PullStatusEvent } from "../pull/progress";

/** Per-layer states of a push, in docker's words. */
export type PushLayerStatus = "Preparing" | "Waiting" | "Pushing" | "Pushed" | "Layer already exists" | `Mounted from ${string}`;

/** docker's push progress, one layer (`id` = 12-character short diff_id, as docker shows it). */
export interface PushLayerEvent {
  id: string;
  status: PushLayerStatus;
  /** Bytes sent so far and the blob's size, while Pushing. */
  current?: number;
  total?: number;
}

/** A line about the whole push: "The push refers to repository […]", "1.0: digest: sha256:… size: 528". */
export type PushStatusEvent = PullStatusEvent;

export type PushProgressEvent = PushLayerEvent | PushStatusEvent;

const PUSH_EVENT_INTERVAL_MS = 100;

/** Pushing events at most every 100 ms per layer, plus the first and the last. */
export function uploadReporter(id: string, total: number, emit: (event: PushLayerEvent) => void): (current: number) => void {
  let last = 0;
  return (current) => {
    const now = performance.now();
    if (current < total && last !== 0 && now - last < PUSH_EVENT_INTERVAL_MS) return;
    last = now;
    emit({ id, status: "Pushing", current, total });
  };
}
