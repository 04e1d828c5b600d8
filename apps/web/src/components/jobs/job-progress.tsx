"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { RouterOutputs } from "@berth/api";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef, useState } from "react";
import { OutputLines } from "~/components/images/output-lines";
import { Badge, Button, cn, ErrorState, Skeleton } from "~/components/ui";
import { errorMessage, formatBytes } from "~/lib/format";
import { formatDuration, isFinished, isLayerDone, JOB_POLL_MS, layerPercent, stateTone } from "~/lib/jobs";
import { useTRPC } from "~/trpc/react";

/**
 * A job as it runs: follows `jobs.watch` (server-sent events) and shows docker's status lines
 * and one row per layer; if the live stream fails it falls back to polling `jobs.get`. The job runs on the server: closing this view does not
 * stop it. `onFinished` is called once when the job reaches a final state.
 */
export function JobProgress({
  id,
  onFinished,
  showCancel = true,
}: {
  id: string;
  onFinished?: (state: "succeeded" | "failed" | "cancelled") => void;
  showCancel?: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // The hook forgets its data when the stream ends (as it does once the job is finished): keep the last.
  const [liveJob, setLiveJob] = useState<RouterOutputs["jobs"]["get"]>();
  const live = useSubscription(trpc.jobs.watch.subscriptionOptions({ id }, { onData: setLiveJob }));
  const liveFailed = live.status === "error";
  const query = useQuery(
    trpc.jobs.get.queryOptions(
      { id },
      {
        staleTime: 0,
        refetchInterval: (q) => (liveFailed && !(q.state.data && isFinished(q.state.data.state)) ? JOB_POLL_MS : false),
      },
    ),
  );
  const cancel = useMutation(
    trpc.jobs.cancel.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.jobs.pathKey() }),
    }),
  );

  const job = liveFailed ? (query.data ?? liveJob) : (liveJob ?? query.data);
  const state = job?.state;

  // Tell the caller once, on the transition (a job already finished when opened counts too).
  const reported = useRef(false);
  useEffect(() => {
    if (!state || reported.current || !isFinished(state)) return;
    reported.current = true;
    if (state === "succeeded" || state === "failed" || state === "cancelled") onFinished?.(state);
  }, [state, onFinished]);

  if (!job && query.isPending) {
    return (
      <div className="space-y-2" role="status" aria-label="Loading job">
        <Skeleton className="h-5 w-1/2" />
        <Skeleton className="h-5 w-2/3" />
      </div>
    );
  }
  if (!job) {
    return <ErrorState title="Could not load the job" message={errorMessage(query.error)} onRetry={() => void query.refetch()} />;
  }

  const finished = isFinished(job.state);
  // Before its first layer: a pull or push is resolving the image; a layer check's own line says what it does.
  const waiting =
    job.kind === "build" ? null : job.state === "queued" ? "Waiting to start…" : job.kind === "layer-check" ? null : "Resolving…";
  const verb = { push: "Push", build: "Build", "layer-check": "Layer check", pull: "Pull" }[job.kind];
  const { layers } = job.progress;
  // A failed job's last line repeats its error, which the error box above shows already.
  const lines = job.error ? job.progress.lines.filter((l) => !/^Error\b/.test(l)) : job.progress.lines;
  return (
    <div
      className="space-y-3"
      data-testid="pull-status"
      data-state={job.state}
      data-live={live.status}
      aria-live="polite"
      aria-busy={!finished}
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="flex min-w-0 items-center gap-2">
          <Badge tone={stateTone(job.state)}>{job.state}</Badge>
          <span className="truncate font-mono text-xs" title={job.ref ?? ""}>
            {job.ref}
            {job.platform ? ` (${job.platform})` : ""}
            {job.allTags ? " (all tags)" : ""}
          </span>
        </div>
        <div className="flex items-center gap-2 text-xs text-slate-500 tabular-nums dark:text-slate-400">
          <span>{formatDuration(job.startedAt, job.finishedAt)}</span>
          {showCancel && !finished && job.kind !== "layer-check" ? (
            <Button
              size="sm"
              variant="secondary"
              loading={cancel.isPending}
              onClick={() => cancel.mutate({ id })}
              data-testid="pull-cancel"
            >
              Cancel {verb.toLowerCase()}
            </Button>
          ) : null}
        </div>
      </div>

      {job.state === "failed" || job.state === "cancelled" ? (
        <ErrorState title={`${verb} ${job.state === "failed" ? "failed" : "cancelled"}`} message={job.error ?? job.state} />
      ) : null}
      {cancel.error ? <ErrorState title="Could not cancel" message={errorMessage(cancel.error)} /> : null}
      {/* A failed poll keeps the last answer on screen; the next poll may well succeed. */}
      {liveFailed && query.error ? (
        <p className="text-xs text-rose-600 dark:text-rose-400">Lost contact with the server: {errorMessage(query.error)}</p>
      ) : null}

      {layers.length > 0 ? (
        <ul className="space-y-1.5" data-testid="pull-layers">
          {layers.map((layer) => {
            const percent = layerPercent(layer.current, layer.total, layer.status);
            return (
              <li
                key={layer.id}
                data-testid="pull-layer"
                data-layer={layer.id}
                className="grid grid-cols-[7.5rem_1fr] items-center gap-x-3 gap-y-0.5"
              >
                <span className="font-mono text-xs">{layer.id}</span>
                <span className="flex items-center justify-between gap-2 text-xs">
                  <span className="text-slate-700 dark:text-slate-300">{layer.status}</span>
                  {(layer.status === "Downloading" || layer.status === "Pushing") && layer.total ? (
                    <span className="text-slate-500 tabular-nums dark:text-slate-400">
                      {formatBytes(layer.current ?? 0)} / {formatBytes(layer.total)}
                    </span>
                  ) : null}
                </span>
                <span />
                <span
                  role="progressbar"
                  aria-label={`Layer ${layer.id}`}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={percent === null ? undefined : Math.round(percent)}
                  className="h-1.5 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
                >
                  <span
                    className={cn(
                      "block h-full rounded-full transition-[width]",
                      isLayerDone(layer.status) ? "bg-emerald-500" : "bg-sky-500",
                      percent === null && "w-0",
                    )}
                    style={percent === null ? undefined : { width: `${percent}%` }}
                  />
                </span>
              </li>
            );
          })}
        </ul>
      ) : !finished && waiting ? (
        <p className="text-xs text-slate-500 dark:text-slate-400">{waiting}</p>
      ) : null}

      <OutputLines lines={lines} testId="pull-lines" />
    </div>
  );
}
