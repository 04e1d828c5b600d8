"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Button, Checkbox, Dialog, ErrorState } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { removalLines } from "~/lib/models";
import { useTRPC } from "~/trpc/react";
import { OutputLines } from "./output-lines";

/** Confirms `images.remove` for the given references and shows docker's lines afterwards. */
export function RemoveDialog({ refs, open, onClose, onDone }: { refs: string[]; open: boolean; onClose: () => void; onDone?: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [force, setForce] = useState(false);
  const remove = useMutation(
    trpc.images.remove.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(),
    }),
  );
  const { reset } = remove;

  useEffect(() => {
    if (open) {
      setForce(false);
      reset();
    }
  }, [open, reset]);

  const result = remove.data ? removalLines(remove.data) : null;
  const finished = remove.isSuccess;

  return (
    <Dialog
      open={open}
      onClose={() => {
        onClose();
        if (finished) onDone?.();
      }}
      testId="remove-dialog"
      title={finished ? "Removed" : `Remove ${refs.length === 1 ? "1 image reference" : `${refs.length} image references`}?`}
      description={finished ? undefined : "Tags are untagged; an image whose last tag goes is deleted, with layers no other image uses."}
      footer={
        finished ? (
          <Button
            key="done"
            variant="primary"
            data-testid="remove-done"
            onClick={() => {
              onClose();
              onDone?.();
            }}
          >
            Done
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button variant="danger" data-testid="remove-confirm" loading={remove.isPending} onClick={() => remove.mutate({ refs, force })}>
              Remove
            </Button>
          </>
        )
      }
    >
      {finished && result ? (
        <div className="space-y-3">
          {result.lines.length > 0 ? (
            <OutputLines lines={result.lines} testId="remove-output" />
          ) : (
            <p className="text-slate-500">Nothing was removed.</p>
          )}
          {result.errors.map((e) => (
            <ErrorState key={e} title="Not removed" message={e} />
          ))}
        </div>
      ) : (
        <div className="space-y-4">
          <ul className="max-h-48 space-y-1 overflow-auto font-mono text-xs">
            {refs.map((r) => (
              <li key={r} className="truncate">
                {r}
              </li>
            ))}
          </ul>
          <Checkbox
            label="Force: remove images referenced by several tags or in use"
            checked={force}
            onChange={(e) => setForce(e.target.checked)}
            data-testid="remove-force"
          />
          {remove.error ? <ErrorState title="Remove failed" message={errorMessage(remove.error)} /> : null}
        </div>
      )}
    </Dialog>
  );
}
