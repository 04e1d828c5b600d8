"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Button, ButtonLink, Dialog, ErrorState, Field, Input } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { useTRPC } from "~/trpc/react";
import { JobProgress } from "./job-progress";

/**
 * `docker pull` from the dashboard: starts a server job and follows it. Closing the dialog
 * does not stop the pull; the Jobs page finds it again.
 */
export function PullDialog({ open, onClose, initialRef }: { open: boolean; onClose: () => void; initialRef?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [ref, setRef] = useState("");
  const [platform, setPlatform] = useState("");
  const [finished, setFinished] = useState(false);
  const pull = useMutation(
    trpc.jobs.pull.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.jobs.list.queryKey() }),
    }),
  );
  const { reset } = pull;
  const jobId = pull.data?.id;

  useEffect(() => {
    if (!open) {
      setRef("");
      setPlatform("");
      setFinished(false);
      reset();
    }
  }, [open, reset]);

  // Opened from a search result: the reference is filled in, ready to pull.
  useEffect(() => {
    if (open && initialRef) setRef(initialRef);
  }, [open, initialRef]);

  const onFinished = useCallback(
    (state: "succeeded" | "failed" | "cancelled") => {
      setFinished(true);
      // A new image (or tag) is in the store: images, disk usage and the audit refresh, like
      // after a load; otherwise only the job list changed.
      void queryClient.invalidateQueries(state === "succeeded" ? undefined : { queryKey: trpc.jobs.list.queryKey() });
    },
    [queryClient, trpc],
  );

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    const name = ref.trim();
    if (!name || pull.isPending) return;
    pull.mutate({ ref: name, ...(platform.trim() ? { platform: platform.trim() } : {}) });
  }

  return (
    <Dialog
      open={open}
      onClose={onClose}
      testId="pull-dialog"
      title={jobId ? `Pulling ${pull.variables?.ref ?? ""}` : "Pull an image"}
      description={
        jobId
          ? "The pull runs on the server: closing this dialog does not stop it."
          : "Download an image from a registry into the shared store."
      }
      footer={
        jobId ? (
          <>
            <ButtonLink href={`/jobs/${encodeURIComponent(jobId)}`} variant="secondary" data-testid="pull-job-link">
              Open in Jobs
            </ButtonLink>
            <Button variant={finished ? "primary" : "secondary"} onClick={onClose} data-testid="pull-close">
              {finished ? "Done" : "Close"}
            </Button>
          </>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button
              type="submit"
              form="pull-form"
              variant="primary"
              loading={pull.isPending}
              disabled={!ref.trim()}
              data-testid="pull-submit"
            >
              Pull
            </Button>
          </>
        )
      }
    >
      {jobId ? (
        <JobProgress id={jobId} onFinished={onFinished} />
      ) : (
        <form id="pull-form" onSubmit={onSubmit} className="space-y-4">
          <Field label="Image" hint="NAME[:TAG|@DIGEST], e.g. registry.example.com/team/app:1.0">
            {(id) => (
              <Input
                id={id}
                autoFocus
                placeholder="NAME[:TAG]"
                value={ref}
                onChange={(e) => setRef(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                data-testid="pull-ref"
              />
            )}
          </Field>
          <Field label="Platform (optional)" hint="os/arch[/variant]; the server's default when empty">
            {(id) => (
              <Input
                id={id}
                placeholder="linux/amd64"
                value={platform}
                onChange={(e) => setPlatform(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                data-testid="pull-platform"
              />
            )}
          </Field>
          {pull.error ? <ErrorState title="Pull failed" message={errorMessage(pull.error)} /> : null}
        </form>
      )}
    </Dialog>
  );
}
