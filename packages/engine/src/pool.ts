import { abortError } from "./registry/errors";

/**
 * Runs `work` over items with at most `limit` at once (layer downloads and uploads). The first
 * failure stops new work and aborts the running items through `abort`; it is rethrown once
 * every item has settled, so no transfer is still streaming when the caller sees the error.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  abort: (reason: unknown) => void,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (signal.aborted) {
        failure ??= { error: abortError(signal) };
        return;
      }
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        if (!failure) {
          failure = { error };
          abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
