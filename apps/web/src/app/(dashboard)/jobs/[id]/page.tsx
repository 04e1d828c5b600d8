"use client";

import { useParams } from "next/navigation";
import { JobProgress } from "~/components/jobs/job-progress";
import { PageHeader } from "~/components/shell/app-shell";
import { ButtonLink, Card } from "~/components/ui";

/** One job (pull or push), live: the same view as its dialog, reachable after the browser was closed. */
export default function JobPage() {
  const params = useParams<{ id: string }>();
  const id = decodeURIComponent(params.id);
  return (
    <>
      <PageHeader
        title="Job"
        description={<span className="font-mono text-xs">{id}</span>}
        actions={
          <ButtonLink href="/jobs" variant="secondary">
            All jobs
          </ButtonLink>
        }
      />
      <Card>
        <JobProgress id={id} />
      </Card>
    </>
  );
}
