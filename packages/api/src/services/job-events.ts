/**
 * In-process wake-ups for job watchers: the runner calls `notifyJobChanged` after each write,
 * so a watcher on the same replica sees progress at once; watchers also re-read the row on a
 * timer, which covers jobs run by another replica.
 */
const waiters = new Map<string, Set<() => void>>();

export function notifyJobChanged(id: string): void {
  const set = waiters.get(id);
  if (!set) return;
  waiters.delete(id);
  for (const wake of set) wake();
}

/** Resolves when the job changes in this process, after `timeoutMs`, or when `signal` aborts. */
export function waitForJobChange(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    let set = waiters.get(id);
    if (!set) waiters.set(id, (set = new Set()));
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      const current = waiters.get(id);
      current?.delete(done);
      if (current?.size === 0) waiters.delete(id);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    signal?.addEventListener("abort", done, { once: true });
    set.add(done);
  });
}

/** Watchers waiting now, for tests. */
export function jobWatcherCount(): number {
  let n = 0;
  for (const set of waiters.values()) n += set.size;
  return n;
}
