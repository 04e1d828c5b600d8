"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Guarded } from "~/components/account/guarded";
import { PullDialog } from "~/components/jobs/pull-dialog";
import { PageHeader } from "~/components/shell/app-shell";
import { Badge, Button, EmptyState, ErrorState, Table, TableSkeleton, TBody, Td, Th, THead, Tr } from "~/components/ui";
import { errorMessage, formatDateTime, formatRelative } from "~/lib/format";
import { formatDuration, isFinished, stateTone } from "~/lib/jobs";
import { useTRPC } from "~/trpc/react";

const LIMIT = 50;
/** The list refreshes this often while any job on it is still going. */
const LIST_POLL_MS = 2000;

export default function JobsPage() {
  const trpc = useTRPC();
  const [pullOpen, setPullOpen] = useState(false);
  const query = useQuery(
    trpc.jobs.list.queryOptions(
      { limit: LIMIT },
      {
        staleTime: 0,
        refetchInterval: (q) => (q.state.data?.some((j) => !isFinished(j.state)) ? LIST_POLL_MS : false),
      },
    ),
  );
  const jobs = query.data ?? [];

  return (
    <>
      <PageHeader
        title="Jobs"
        description="Pulls run on the server and keep going when the browser closes: find them here."
        actions={
          <Guarded action="pull">
            {(ok) => (
              <Button variant="primary" disabled={!ok} onClick={() => setPullOpen(true)} data-testid="pull-open">
                Pull…
              </Button>
            )}
          </Guarded>
        }
      />
      {query.isPending ? (
        <TableSkeleton rows={5} />
      ) : query.error && !query.data ? (
        <ErrorState title="Could not list jobs" message={errorMessage(query.error)} onRetry={() => void query.refetch()} />
      ) : jobs.length === 0 ? (
        <EmptyState title="No jobs yet">Pull an image from a registry to see it here.</EmptyState>
      ) : (
        <Table data-testid="jobs-table">
          <THead>
            <tr>
              <Th>Image</Th>
              <Th>State</Th>
              <Th>Started by</Th>
              <Th>Created</Th>
              <Th className="text-right">Duration</Th>
              <Th>Error</Th>
            </tr>
          </THead>
          <TBody>
            {jobs.map((job) => (
              <Tr key={job.id} data-testid="jobs-row" data-state={job.state}>
                <Td className="max-w-sm font-mono text-xs break-all">
                  <Link href={`/jobs/${encodeURIComponent(job.id)}`} className="font-medium text-sky-700 hover:underline dark:text-sky-300">
                    {job.ref}
                  </Link>
                  {job.platform ? <span className="ml-1 text-slate-500 dark:text-slate-400">({job.platform})</span> : null}
                  {job.allTags ? <span className="ml-1 text-slate-500 dark:text-slate-400">(all tags)</span> : null}
                  <span className="ml-2 font-sans text-slate-500 dark:text-slate-400" data-testid="jobs-kind">
                    {job.kind}
                  </span>
                </Td>
                <Td>
                  <Badge tone={stateTone(job.state)}>{job.state}</Badge>
                </Td>
                <Td>{job.createdByName}</Td>
                <Td className="whitespace-nowrap" title={formatDateTime(job.createdAt)}>
                  {formatRelative(job.createdAt)}
                </Td>
                <Td className="text-right whitespace-nowrap tabular-nums">{formatDuration(job.startedAt, job.finishedAt)}</Td>
                <Td className="max-w-xs truncate text-rose-700 dark:text-rose-300" title={job.error ?? undefined}>
                  {job.error ?? ""}
                </Td>
              </Tr>
            ))}
          </TBody>
        </Table>
      )}
      <PullDialog open={pullOpen} onClose={() => setPullOpen(false)} />
    </>
  );
}
