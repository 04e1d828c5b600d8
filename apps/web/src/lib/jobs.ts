/** Display helpers for server jobs (pulls). */
import type { RouterOutputs } from "@berth/api";

export type JobState = RouterOutputs["jobs"]["get"]["state"];

/** How often a job that is still going is polled. */
export const JOB_POLL_MS = 500;

export function isFinished(state: JobState): boolean {
  return state === "succeeded" || state === "failed" || state === "cancelled";
}

export function stateTone(state: JobState): "neutral" | "info" | "success" | "warning" | "danger" {
  switch (state) {
    case "queued":
      return "neutral";
    case "running":
      return "info";
    case "succeeded":
      return "success";
    case "failed":
      return "danger";
    case "cancelled":
      return "warning";
  }
}

/** "1.2s", "3m 04s", "1h 02m": from start to end (or to now while running); "—" before it started. */
export function formatDuration(from: Date | null, end: Date | null, now = Date.now()): string {
  if (!from) return "—";
  const to = end?.getTime() ?? now;
  const ms = Math.max(0, to - from.getTime());
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** A layer that needs nothing more: pulled, already there, pushed, or mounted from another repository. */
export function isLayerDone(status: string): boolean {
  return (
    status === "Pull complete" ||
    status === "Already exists" ||
    status === "Pushed" ||
    status === "Layer already exists" ||
    status.startsWith("Mounted from ")
  );
}

/** Percentage of a layer's download or upload, when the server reported its size. */
export function layerPercent(current: number | undefined, total: number | undefined, status: string): number | null {
  if (isLayerDone(status) || status === "Download complete" || status === "Verifying Checksum") {
    return 100;
  }
  if (!total || current === undefined) return null;
  return Math.min(100, Math.max(0, (current / total) * 100));
}
