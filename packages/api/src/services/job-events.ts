/**
 * Wake-ups for job watchers: the runner calls `notifyJobChanged` after each write, and every
 * replica's listener on the jobs channel (see boot.ts) calls it for changes made anywhere, so a
 * watcher sees progress at once wherever the job runs; watchers also re-read the row on a slow
 * timer, in case an announcement was lost with the listening connection.
 */
const waiters = new Map<string, Set<() => void>>();

export function notifyJobChanged(id: string): void {
  const set = waiters.get(id);
  if (!set) return;
  waiters.delete(id);
  for (const wake of set) wake();
}

/** Wakes every watcher, e.g. after announcements may have been missed. */
export function notifyAllJobsChanged(): void {
  for (const id of [...waiters.keys()]) notifyJobChanged(id);
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
