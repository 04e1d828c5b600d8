"use client";

import { useParams } from "next/navigation";
import { JobProgress } from "~/components/jobs/job-progress";
import { PageHeader } from "~/components/shell/app-shell";
import { ButtonLink, Card, ErrorState } from "~/components/ui";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
        {UUID_RE.test(id) ? (
          <JobProgress id={id} />
        ) : (
          // Asking the server would only fail its input check: say what is wrong with the address.
          <ErrorState title="No such job" message={`"${id}" is not a job id: job ids look like 0b6f3c7e-5d0a-4f7c-9a51-2f4c8e1d9b20.`} />
        )}
      </Card>
    </>
  );
}
