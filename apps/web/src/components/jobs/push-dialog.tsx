"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { Button, ButtonLink, Dialog, ErrorState, Field, Select } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { splitReference } from "~/lib/models";
import { useTRPC } from "~/trpc/react";
import { JobProgress } from "./job-progress";

/** One choice in the dialog: a single tag, or every tag of a repository (`docker push -a`). */
interface PushChoice {
  value: string;
  label: string;
  ref: string;
  allTags: boolean;
}

/** The image's tags, then "all tags" of each repository that has more than one. */
export function pushChoices(repoTags: readonly string[]): PushChoice[] {
  const tags = repoTags.map((t) => ({ value: `tag:${t}`, label: t, ref: t, allTags: false }));
  const counts = new Map<string, number>();
  for (const t of repoTags) {
    const { repository } = splitReference(t);
    counts.set(repository, (counts.get(repository) ?? 0) + 1);
  }
  const repositories = [...counts].filter(([, n]) => n > 1).map(([repository]) => repository);
  const all = repositories.map((r) => ({ value: `all:${r}`, label: `All tags of ${r} (-a)`, ref: r, allTags: true }));
  return [...tags, ...all];
}

/**
 * `docker push` from the image page: pick one of the image's tags (or all tags of a
 * repository), then follow the server job. The registry comes from the tag's name and the
 * team's stored credentials for it; closing the dialog does not stop the push.
 */
export function PushDialog({ open, onClose, repoTags }: { open: boolean; onClose: () => void; repoTags: readonly string[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const choices = useMemo(() => pushChoices(repoTags), [repoTags]);
  const [value, setValue] = useState("");
  const [finished, setFinished] = useState(false);
  const push = useMutation(
    trpc.jobs.push.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.jobs.list.queryKey() }),
    }),
  );
  const { reset } = push;
  const jobId = push.data?.id;
  const chosen = choices.find((c) => c.value === value) ?? choices[0];

  useEffect(() => {
    if (!open) {
      setValue("");
      setFinished(false);
      reset();
    }
  }, [open, reset]);

  const onFinished = useCallback(() => {
    setFinished(true);
    // A push changes nothing in the store; the audit log and the job list have news.
    void queryClient.invalidateQueries({ queryKey: trpc.jobs.list.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.audit.pathKey() });
  }, [queryClient, trpc]);

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!chosen || push.isPending) return;
    push.mutate({ ref: chosen.ref, ...(chosen.allTags ? { allTags: true } : {}) });
  }

  return (
    <Dialog
      open={open}
      onClose={onClose}
      testId="push-dialog"
      title={jobId ? `Pushing ${push.variables?.ref ?? ""}` : "Push to a registry"}
      description={
        jobId
          ? "The push runs on the server: closing this dialog does not stop it."
          : "Upload the image to the registry its name points at, with the team's credentials for that registry."
      }
      footer={
        jobId ? (
          <>
            <ButtonLink href={`/jobs/${encodeURIComponent(jobId)}`} variant="secondary" data-testid="push-job-link">
              Open in Jobs
            </ButtonLink>
            <Button variant={finished ? "primary" : "secondary"} onClick={onClose} data-testid="push-close">
              {finished ? "Done" : "Close"}
            </Button>
          </>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" form="push-form" variant="primary" loading={push.isPending} disabled={!chosen} data-testid="push-submit">
              Push
            </Button>
          </>
        )
      }
    >
      {jobId ? (
        <JobProgress id={jobId} onFinished={onFinished} />
      ) : (
        <form id="push-form" onSubmit={onSubmit} className="space-y-4">
          <Field
            label="Tag to push"
            hint="To push to another registry, first add a tag that names it (e.g. registry.example.com/team/app:1.0)."
          >
            {(id) => (
              <Select id={id} value={chosen?.value ?? ""} onChange={(e) => setValue(e.target.value)} data-testid="push-ref">
                {choices.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          {push.error ? <ErrorState title="Push failed" message={errorMessage(push.error)} /> : null}
        </form>
      )}
    </Dialog>
  );
}
