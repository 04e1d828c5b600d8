"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState, type FormEvent } from "react";
import { Guarded } from "~/components/account/guarded";
import { JobProgress } from "~/components/jobs/job-progress";
import { PageHeader } from "~/components/shell/app-shell";
import { Button, ButtonLink, Card, Checkbox, cn, ErrorState, Field, Input, inputClasses } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

const EXAMPLE = `FROM scratch
LABEL org.opencontainers.image.title="hello"
ENV GREETING=hello
WORKDIR /app
CMD ["/app/hello"]
`;

type Source = "dockerfile" | "context";

/** Non-empty lines of a textarea: `KEY=VALUE` per line. */
function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

/** `POST /api/images/build` with the context tar as the body; resolves with the queued job's id. */
function uploadContext(file: File, query: URLSearchParams): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/images/build?${query.toString()}`);
    xhr.setRequestHeader("content-type", "application/x-tar");
    xhr.setRequestHeader("x-berth-client", "web");
    xhr.onload = () => {
      let body: { id?: string; error?: string } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300 && body.id) resolve(body.id);
      else reject(new Error(body.error ?? (xhr.responseText.trim() || `${xhr.status} ${xhr.statusText}`)));
    };
    xhr.onerror = () => reject(new Error("network error: the upload did not reach the server"));
    xhr.send(file);
  });
}

/**
 * `docker build` from the dashboard: paste a Dockerfile (no other files) or upload a context tar.
 * The build is a server job: its classic-builder output streams here and on the Jobs page.
 */
export default function BuildPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [source, setSource] = useState<Source>("dockerfile");
  const [dockerfile, setDockerfile] = useState(EXAMPLE);
  const [file, setFile] = useState<File | null>(null);
  const [dockerfilePath, setDockerfilePath] = useState("");
  const [tags, setTags] = useState("");
  const [buildArgs, setBuildArgs] = useState("");
  const [target, setTarget] = useState("");
  const [noCache, setNoCache] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const [uploading, setUploading] = useState(false);
  const build = useMutation(trpc.jobs.build.mutationOptions({ onSuccess: (r) => setJobId(r.id) }));

  const onFinished = useCallback(
    (state: "succeeded" | "failed" | "cancelled") =>
      void queryClient.invalidateQueries(state === "succeeded" ? undefined : { queryKey: trpc.jobs.list.queryKey() }),
    [queryClient, trpc],
  );

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setJobId(null);
    setUploadError(null);
    const tagList = tags.split(/[\s,]+/).filter(Boolean);
    if (source === "dockerfile") {
      build.mutate({
        dockerfile,
        tags: tagList,
        buildArgs: lines(buildArgs),
        ...(target.trim() ? { target: target.trim() } : {}),
        ...(noCache ? { noCache: true } : {}),
      });
      return;
    }
    if (!file) return;
    const query = new URLSearchParams();
    for (const t of tagList) query.append("t", t);
    for (const a of lines(buildArgs)) query.append("buildarg", a);
    if (target.trim()) query.set("target", target.trim());
    if (dockerfilePath.trim()) query.set("f", dockerfilePath.trim());
    if (noCache) query.set("nocache", "1");
    setUploading(true);
    uploadContext(file, query)
      .then(setJobId, (err: unknown) => setUploadError(errorMessage(err)))
      .finally(() => setUploading(false));
  }

  const error = build.error ? errorMessage(build.error) : uploadError;
  return (
    <>
      <PageHeader
        title="Build"
        description="Build an image from a Dockerfile, like docker build, without a daemon: every instruction but RUN."
      />
      <Card>
        <form onSubmit={onSubmit} className="space-y-4" data-testid="build-form">
          <div
            role="tablist"
            aria-label="Build context"
            className="inline-flex rounded-md border border-slate-300 p-0.5 dark:border-slate-700"
          >
            {(["dockerfile", "context"] as const).map((s) => (
              <button
                key={s}
                type="button"
                role="tab"
                aria-selected={source === s}
                data-testid={`build-source-${s}`}
                onClick={() => setSource(s)}
                className={cn(
                  "rounded px-3 py-1 text-sm",
                  source === s ? "bg-sky-600 text-white" : "text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800",
                )}
              >
                {s === "dockerfile" ? "Paste a Dockerfile" : "Upload a context (.tar)"}
              </button>
            ))}
          </div>

          {source === "dockerfile" ? (
            <Field
              label="Dockerfile"
              hint="Only instructions that need no files from a context: COPY takes files from other stages or images."
            >
              {(id) => (
                <textarea
                  id={id}
                  data-testid="build-dockerfile"
                  value={dockerfile}
                  onChange={(e) => setDockerfile(e.target.value)}
                  rows={12}
                  spellCheck={false}
                  className={cn(inputClasses, "h-auto py-2 font-mono text-xs")}
                />
              )}
            </Field>
          ) : (
            <div className="grid gap-4 sm:grid-cols-2">
              <Field label="Context archive" hint="A tar (or .tar.gz) of the build directory; .dockerignore inside it applies.">
                {(id) => (
                  <input
                    id={id}
                    type="file"
                    accept=".tar,.tar.gz,.tgz,application/x-tar,application/gzip"
                    data-testid="build-context-file"
                    onChange={(e) => setFile(e.target.files?.[0] ?? null)}
                    className="text-sm"
                  />
                )}
              </Field>
              <Field label="Dockerfile path (-f)" hint="Inside the context; default Dockerfile.">
                {(id) => (
                  <Input id={id} value={dockerfilePath} onChange={(e) => setDockerfilePath(e.target.value)} placeholder="Dockerfile" />
                )}
              </Field>
            </div>
          )}

          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Tags (-t)" hint="name:tag, several separated by spaces or commas.">
              {(id) => (
                <Input id={id} data-testid="build-tags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="team/app:1.0" />
              )}
            </Field>
            <Field label="Target stage (--target)">
              {(id) => <Input id={id} value={target} onChange={(e) => setTarget(e.target.value)} placeholder="last stage" />}
            </Field>
          </div>
          <Field label="Build arguments (--build-arg)" hint="KEY=VALUE, one per line. SOURCE_DATE_EPOCH makes the image reproducible.">
            {(id) => (
              <textarea
                id={id}
                value={buildArgs}
                onChange={(e) => setBuildArgs(e.target.value)}
                rows={2}
                spellCheck={false}
                className={cn(inputClasses, "h-auto py-2 font-mono text-xs")}
              />
            )}
          </Field>
          <div className="flex flex-wrap items-center justify-between gap-3">
            <Checkbox label="Do not use the build cache (--no-cache)" checked={noCache} onChange={(e) => setNoCache(e.target.checked)} />
            <Guarded action="load">
              {(ok) => (
                <Button
                  type="submit"
                  variant="primary"
                  disabled={!ok || (source === "context" && !file)}
                  loading={build.isPending || uploading}
                  data-testid="build-submit"
                >
                  Build
                </Button>
              )}
            </Guarded>
          </div>
        </form>
      </Card>

      {error ? <ErrorState className="mt-4" title="Could not start the build" message={error} /> : null}
      {jobId ? (
        <Card className="mt-4" data-testid="build-job">
          <div className="mb-3 flex items-center justify-between gap-2">
            <p className="text-sm font-medium">Build output</p>
            <ButtonLink href={`/jobs/${jobId}`} size="sm" variant="secondary">
              Open job
            </ButtonLink>
          </div>
          <JobProgress id={jobId} onFinished={onFinished} />
        </Card>
      ) : null}
    </>
  );
}
