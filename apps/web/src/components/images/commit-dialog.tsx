"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Button, ButtonLink, cn, Dialog, ErrorState, Field, Input, inputClasses } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

interface FileDraft {
  path: string;
  content: string;
  /** Octal text, e.g. "644". */
  mode: string;
  /** Set when the content came from the image and is not text the editor can show. */
  note?: string;
}

const EMPTY_FILE: FileDraft = { path: "", content: "", mode: "644" };

/** UTF-8 text → base64, in the browser. */
function toBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(data: string): string {
  const binary = atob(data);
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/**
 * `docker commit` from the dashboard: add or replace a few files and delete paths on top of this
 * image; the result is a new image with one more layer (and a history entry with the message),
 * tagged when a name is given. `berth commit` takes a tarball for larger changes.
 */
export function CommitDialog({
  open,
  onClose,
  base,
  suggestedTag,
}: {
  open: boolean;
  onClose: () => void;
  base: string;
  suggestedTag: string;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [files, setFiles] = useState<FileDraft[]>([EMPTY_FILE]);
  const [deletes, setDeletes] = useState("");
  const [reference, setReference] = useState("");
  const [message, setMessage] = useState("");
  const [changes, setChanges] = useState("");
  const [loadError, setLoadError] = useState<string | null>(null);
  const commit = useMutation(trpc.images.commitFiles.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }));
  const { reset } = commit;

  useEffect(() => {
    if (!open) {
      setFiles([EMPTY_FILE]);
      setDeletes("");
      setReference("");
      setMessage("");
      setChanges("");
      setLoadError(null);
      reset();
    }
  }, [open, reset]);

  const update = (i: number, patch: Partial<FileDraft>) => setFiles((all) => all.map((f, j) => (j === i ? { ...f, ...patch } : f)));

  /** Fills a row with the file as the image has it, to edit rather than retype. */
  async function loadCurrent(i: number) {
    const path = files[i]?.path.trim();
    if (!path) return;
    setLoadError(null);
    try {
      const file = await queryClient.fetchQuery(trpc.images.readFile.queryOptions({ ref: base, path }));
      if (!file) return setLoadError(`${path} is not in this image: it will be created`);
      if (file.type !== "file") return setLoadError(`${path} is a ${file.type}, not a file`);
      if (file.tooLarge || file.content === null) return setLoadError(`${path} is too large to edit here: use berth commit with a tarball`);
      update(i, { content: fromBase64(file.content), mode: (file.mode & 0o7777).toString(8) });
    } catch (err) {
      setLoadError(errorMessage(err));
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    const chosen = files.filter((f) => f.path.trim());
    commit.mutate({
      base,
      ...(reference.trim() ? { reference: reference.trim() } : {}),
      files: chosen.map((f) => ({ path: f.path.trim(), content: toBase64(f.content), mode: parseInt(f.mode || "644", 8) })),
      deletes: lines(deletes),
      ...(message.trim() ? { message: message.trim() } : {}),
      changes: lines(changes),
    });
  }

  const done = commit.data;
  const nothing = files.every((f) => !f.path.trim()) && lines(deletes).length === 0 && lines(changes).length === 0;
  return (
    <Dialog
      open={open}
      onClose={onClose}
      testId="commit-dialog"
      className="max-w-3xl"
      title={done ? "Committed" : "Edit files and commit"}
      description={done ? undefined : "A new image: this one plus a layer with your changes, like docker commit."}
      footer={
        done ? (
          <>
            <ButtonLink href={`/images/${encodeURIComponent(done.id)}`} variant="primary" data-testid="commit-open">
              Open the new image
            </ButtonLink>
            <Button onClick={onClose}>Close</Button>
          </>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button
              type="submit"
              form="commit-form"
              variant="primary"
              loading={commit.isPending}
              disabled={nothing}
              data-testid="commit-submit"
            >
              Commit
            </Button>
          </>
        )
      }
    >
      {done ? (
        <div className="space-y-1 text-sm" data-testid="commit-result">
          <p>
            New image <code className="font-mono">{done.id}</code>
          </p>
          {done.tag ? <p>Tagged {done.tag}</p> : null}
        </div>
      ) : (
        <form id="commit-form" onSubmit={onSubmit} className="space-y-4">
          {files.map((f, i) => (
            <div key={i} className="space-y-2 rounded-md border border-slate-200 p-3 dark:border-slate-800" data-testid="commit-file">
              <div className="flex items-end gap-2">
                <Field label="Path in the image" className="flex-1">
                  {(id) => (
                    <Input
                      id={id}
                      value={f.path}
                      placeholder="/etc/app/config.yaml"
                      onChange={(e) => update(i, { path: e.target.value })}
                      spellCheck={false}
                      data-testid="commit-file-path"
                    />
                  )}
                </Field>
                <Field label="Mode" className="w-20">
                  {(id) => <Input id={id} value={f.mode} onChange={(e) => update(i, { mode: e.target.value.replace(/[^0-7]/g, "") })} />}
                </Field>
                <Button size="sm" onClick={() => void loadCurrent(i)} disabled={!f.path.trim()} title="Load the file as the image has it">
                  Load current
                </Button>
                <Button size="sm" onClick={() => setFiles((all) => (all.length > 1 ? all.filter((_, j) => j !== i) : [EMPTY_FILE]))}>
                  Remove
                </Button>
              </div>
              <textarea
                aria-label={`Content of ${f.path || "the new file"}`}
                value={f.content}
                onChange={(e) => update(i, { content: e.target.value })}
                rows={5}
                spellCheck={false}
                className={cn(inputClasses, "h-auto py-2 font-mono text-xs")}
                data-testid="commit-file-content"
              />
            </div>
          ))}
          <Button size="sm" onClick={() => setFiles((all) => [...all, EMPTY_FILE])} data-testid="commit-add-file">
            Add another file
          </Button>
          {loadError ? <p className="text-xs text-amber-700 dark:text-amber-400">{loadError}</p> : null}
          <Field label="Delete paths" hint="One per line; recorded as whiteouts in the new layer.">
            {(id) => (
              <textarea
                id={id}
                value={deletes}
                onChange={(e) => setDeletes(e.target.value)}
                rows={2}
                spellCheck={false}
                className={cn(inputClasses, "h-auto py-2 font-mono text-xs")}
                data-testid="commit-deletes"
              />
            )}
          </Field>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Tag the new image (optional)">
              {(id) => (
                <Input
                  id={id}
                  value={reference}
                  placeholder={suggestedTag}
                  onChange={(e) => setReference(e.target.value)}
                  data-testid="commit-reference"
                />
              )}
            </Field>
            <Field label="Message (-m)">
              {(id) => <Input id={id} value={message} onChange={(e) => setMessage(e.target.value)} data-testid="commit-message" />}
            </Field>
          </div>
          <Field label="Dockerfile changes (-c)" hint='One per line, e.g. ENV MODE=debug or CMD ["/app/run"].'>
            {(id) => (
              <textarea
                id={id}
                value={changes}
                onChange={(e) => setChanges(e.target.value)}
                rows={2}
                spellCheck={false}
                className={cn(inputClasses, "h-auto py-2 font-mono text-xs")}
              />
            )}
          </Field>
          {commit.error ? <ErrorState title="Commit failed" message={errorMessage(commit.error)} /> : null}
        </form>
      )}
    </Dialog>
  );
}
