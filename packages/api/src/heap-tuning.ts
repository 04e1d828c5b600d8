import { setFlagsFromString } from "node:v8";

/**
 * Every socket read of a blob upload is a new buffer outside V8's heap, and V8 starts a full
 * marking of the heap each time such memory grows past the heap's slack. A server that has
 * been idle gets a small slack (V8 sizes it from the recent allocation rate), so a 1 GiB push
 * then ran ~60 full collections (each marking the API's whole heap on the main thread and
 * its helpers): 2–3 s of CPU taken from the client on the same machine. A growth factor of 3
 * keeps that slack at tens of MiB: 0 full collections for the same push. The heap limit
 * itself (--max-old-space-size) is unchanged.
 */
export const HEAP_GROWING_PERCENT = 200;

let tuned = false;

export function tuneHeapForStreaming(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
