"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { JobProgress } from "~/components/jobs/job-progress";
import { Button, ButtonLink, Dialog } from "~/components/ui";

/** Follows a pull queued from a search result; closing it does not stop the pull. */
export function PullProgressDialog({ job, onClose }: { job: { id: string; ref: string } | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [finished, setFinished] = useState<string | null>(null);
  const onFinished = useCallback(
    (state: "succeeded" | "failed" | "cancelled") => {
      setFinished(job?.id ?? null);
      // A pulled image changes the store: search results ("In store"), images and disk usage refresh.
      if (state === "succeeded") void queryClient.invalidateQueries();
    },
    [job, queryClient],
  );
  const done = job !== null && finished === job.id;
  return (
    <Dialog
      open={job !== null}
      onClose={onClose}
      testId="search-pull-dialog"
      title={`Pulling ${job?.ref ?? ""}`}
      description="The pull runs on the server: closing this dialog does not stop it."
      footer={
        job ? (
          <>
            <ButtonLink href={`/jobs/${encodeURIComponent(job.id)}`} variant="secondary" data-testid="search-pull-job-link">
              Open in Jobs
            </ButtonLink>
            <Button variant={done ? "primary" : "secondary"} onClick={onClose} data-testid="search-pull-close">
              {done ? "Done" : "Close"}
            </Button>
          </>
        ) : null
      }
    >
      {job ? <JobProgress id={job.id} onFinished={onFinished} /> : null}
    </Dialog>
  );
}
