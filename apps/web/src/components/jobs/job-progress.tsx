"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { OutputLines } from "~/components/images/output-lines";
import { Badge, Button, cn, ErrorState, Skeleton } from "~/components/ui";
import { errorMessage, formatBytes } from "~/lib/format";
import { formatDuration, isFinished, JOB_POLL_MS, layerPercent, stateTone } from "~/lib/jobs";
import { useTRPC } from "~/trpc/react";

/**
 * A pull job as it runs: polls `jobs.get` while the job is not finished and shows docker's
 * status lines and one row per layer. The job runs on the server: closing this view does not
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
  const query = useQuery(
    trpc.jobs.get.queryOptions(
      { id },
      {
        staleTime: 0,
        refetchInterval: (q) => (q.state.data && isFinished(q.state.data.state) ? false : JOB_POLL_MS),
      },
    ),
  );
  const cancel = useMutation(
    trpc.jobs.cancel.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.jobs.pathKey() }),
    }),
  );

  const job = query.data;
  const state = job?.state;

  // Tell the caller once, on the transition (a job already finished when opened counts too).
  const reported = useRef(false);
  useEffect(() => {
    if (!state || reported.current || !isFinished(state)) return;
    reported.current = true;
    if (state === "succeeded" || state === "failed" || state === "cancelled") onFinished?.(state);
  }, [state, onFinished]);

  if (query.isPending) {
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
  const { layers } = job.progress;
  // A failed job's last line repeats its error, which the error box above shows already.
  const lines = job.error ? job.progress.lines.filter((l) => !/^Error\b/.test(l)) : job.progress.lines;
  return (
    <div className="space-y-3" data-testid="pull-status" data-state={job.state} aria-live="polite" aria-busy={!finished}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="flex min-w-0 items-center gap-2">
          <Badge tone={stateTone(job.state)}>{job.state}</Badge>
          <span className="truncate font-mono text-xs" title={job.ref ?? ""}>
            {job.ref}
            {job.platform ? ` (${job.platform})` : ""}
          </span>
        </div>
        <div className="flex items-center gap-2 text-xs text-slate-500 tabular-nums dark:text-slate-400">
          <span>{formatDuration(job.startedAt, job.finishedAt)}</span>
          {showCancel && !finished ? (
            <Button
              size="sm"
              variant="secondary"
              loading={cancel.isPending}
              onClick={() => cancel.mutate({ id })}
              data-testid="pull-cancel"
            >
              Cancel pull
            </Button>
          ) : null}
        </div>
      </div>

      {job.state === "failed" || job.state === "cancelled" ? (
        <ErrorState title={job.state === "failed" ? "Pull failed" : "Pull cancelled"} message={job.error ?? job.state} />
      ) : null}
      {cancel.error ? <ErrorState title="Could not cancel" message={errorMessage(cancel.error)} /> : null}
      {/* A failed poll keeps the last answer on screen; the next poll may well succeed. */}
      {query.error ? (
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
                  {layer.status === "Downloading" && layer.total ? (
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
                      layer.status === "Pull complete" || layer.status === "Already exists" ? "bg-emerald-500" : "bg-sky-500",
                      percent === null && "w-0",
                    )}
                    style={percent === null ? undefined : { width: `${percent}%` }}
                  />
                </span>
              </li>
            );
          })}
        </ul>
      ) : !finished ? (
        <p className="text-xs text-slate-500 dark:text-slate-400">{job.state === "queued" ? "Waiting to start…" : "Resolving…"}</p>
      ) : null}

      <OutputLines lines={lines} testId="pull-lines" />
    </div>
  );
}
