import { readFileSync } from "node:fs";

/** CPU seconds (user + system) a process has used so far; 0 when it cannot be read. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Waits (at most `limitMs`) until the process uses under a twentieth of a core over half a
 * second: work it does after answering (Berth checks a pushed layer in a job) must not land on
 * whatever is timed next.
 */
export async function untilIdle(pid: number | undefined, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 500));
    if (cpuSeconds(pid) - before < 0.025) return;
  }
}
