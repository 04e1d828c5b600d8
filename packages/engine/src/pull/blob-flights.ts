import type { BlobStore } from "../blob-store";
import type { Digest } from "../digest";
import { abortError } from "../registry/errors";

/**
 * Single-flight for blob downloads into one store: while one pull fetches a blob, other pulls
 * of the same blob wait for that download (seeing its progress) instead of fetching the bytes
 * again. A joiner whose leader fails or is cancelled fetches the blob itself, so one person
 * cancelling never fails another's pull.
 */
export class BlobFlights {
  private readonly flights = new Map<string, Flight<unknown>>();

  /**
   * Runs `fetch` for `digest` unless a fetch of it is already in flight, in which case the
   * running one's result is shared. `onProgress` sees the bytes received by whichever runs.
   */
  async run<T>(
    digest: Digest,
    fetch: (progress: (bytes: number) => void) => Promise<T>,
    opts: { signal?: AbortSignal; onProgress?: (bytes: number) => void } = {},
  ): Promise<{ value: T; shared: boolean }> {
    // Bounded: each round either leads (and returns or throws) or outlives a leader that failed.
    for (let round = 0; round < 3; round++) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const existing = this.flights.get(digest.hex) as Flight<T> | undefined;
      if (!existing) return { value: await this.lead(digest, fetch, opts.onProgress), shared: false };
      try {
        return { value: await existing.join(opts), shared: true };
      } catch (err) {
        if (opts.signal?.aborted) throw abortError(opts.signal);
        if (!existing.failed) throw err;
        // The leader failed (or was cancelled): try again, leading this time if nobody else does.
      }
    }
    return { value: await fetch(opts.onProgress ?? (() => undefined)), shared: false };
  }

  /** Downloads in flight, for tests and diagnostics. */
  get size(): number {
    return this.flights.size;
  }

  private async lead<T>(digest: Digest, fetch: (progress: (bytes: number) => void) => Promise<T>, onProgress?: (bytes: number) => void) {
    const flight = new Flight<T>();
    if (onProgress) flight.listeners.add(onProgress);
    this.flights.set(digest.hex, flight as Flight<unknown>);
    try {
      const value = await fetch((bytes) => flight.progress(bytes));
      flight.settle({ value });
      return value;
    } catch (err) {
      flight.settle({ error: err });
      throw err;
    } finally {
      this.flights.delete(digest.hex);
    }
  }
}

class Flight<T> {
  readonly listeners = new Set<(bytes: number) => void>();
  failed = false;
  private bytes = 0;
  private readonly done: Promise<T>;
  private resolve!: (value: T) => void;
  private reject!: (err: unknown) => void;

  constructor() {
    this.done = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Nobody may be waiting when a leader fails.
    this.done.catch(() => undefined);
  }

  progress(bytes: number): void {
    this.bytes = bytes;
    for (const listener of this.listeners) listener(bytes);
  }

  settle(outcome: { value: T } | { error: unknown }): void {
    if ("error" in outcome) {
      this.failed = true;
      this.reject(outcome.error);
    } else this.resolve(outcome.value);
  }

  async join(opts: { signal?: AbortSignal; onProgress?: (bytes: number) => void }): Promise<T> {
    const { signal, onProgress } = opts;
    if (onProgress) {
      this.listeners.add(onProgress);
      if (this.bytes > 0) onProgress(this.bytes);
    }
    let onAbort: (() => void) | undefined;
    try {
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(abortError(signal!));
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      return await Promise.race([this.done, aborted]);
    } finally {
      if (onProgress) this.listeners.delete(onProgress);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
}

const flightsByStore = new WeakMap<BlobStore, BlobFlights>();

/** The flights of one blob store instance: every pull into the same store shares them. */
export function blobFlightsFor(blobs: BlobStore): BlobFlights {
  let flights = flightsByStore.get(blobs);
  if (!flights) {
    flights = new BlobFlights();
    flightsByStore.set(blobs, flights);
  }
  return flights;
}
