"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Badge, Button, Checkbox, Dialog, ErrorState, Skeleton } from "~/components/ui";
import { errorMessage, formatBytes, shortId } from "~/lib/format";
import { useTRPC } from "~/trpc/react";
import { SkippedImages } from "~/components/protection/skipped-images";
import { OutputLines } from "./output-lines";

/** `images.prune` with a dry-run preview first; the real run needs a second click. */
export function PruneDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [all, setAll] = useState(false);
  const preview = useMutation(trpc.images.prune.mutationOptions());
  const prune = useMutation(trpc.images.prune.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }));
  const { mutate: runPreview, reset: resetPreview } = preview;
  const { reset: resetPrune } = prune;

  useEffect(() => {
    if (!open) return;
    resetPrune();
    runPreview({ all, filters: {}, dryRun: true });
  }, [open, all, runPreview, resetPrune]);

  useEffect(() => {
    if (!open) {
      setAll(false);
      resetPreview();
    }
  }, [open, resetPreview]);

  const plan = preview.data ?? null;
  const done = prune.data ?? null;
  const nothing = plan && plan.untagged.length === 0 && plan.deleted.length === 0;

  return (
    <Dialog
      open={open}
      onClose={onClose}
      testId="prune-dialog"
      title={done ? "Pruned" : "Prune images"}
      description={
        done
          ? undefined
          : all
            ? "Removes every untagged image, not only dangling ones. Tagged and pinned images are kept."
            : "Removes dangling images: untagged images no other image builds on."
      }
      footer={
        done ? (
          <Button key="done" variant="primary" onClick={onClose} data-testid="prune-done">
            Done
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button
              variant="danger"
              data-testid="prune-confirm"
              disabled={!plan}
              loading={prune.isPending}
              onClick={() => prune.mutate({ all, filters: {}, dryRun: false })}
            >
              Prune{plan?.spaceReclaimed ? ` (${formatBytes(plan.spaceReclaimed)})` : ""}
            </Button>
          </>
        )
      }
    >
      {done ? (
        <div className="space-y-3" data-testid="prune-result">
          <OutputLines
            lines={[
              ...done.untagged.map((u) => `Untagged: ${u}`),
              ...done.deleted.map((d) => `Deleted: ${d}`),
              `Total reclaimed space: ${formatBytes(done.spaceReclaimed)}`,
            ]}
          />
          <SkippedImages skipped={done.skipped} />
        </div>
      ) : (
        <div className="space-y-4">
          <Checkbox
            label="All untagged images (-a), not only dangling ones"
            checked={all}
            onChange={(e) => setAll(e.target.checked)}
            data-testid="prune-all"
          />
          {preview.isPending ? (
            <div className="space-y-2" role="status" aria-label="Loading preview">
              <Skeleton className="h-5 w-2/3" />
              <Skeleton className="h-5 w-1/2" />
            </div>
          ) : preview.error ? (
            <ErrorState title="Preview failed" message={errorMessage(preview.error)} />
          ) : plan ? (
            <div data-testid="prune-preview" className="space-y-2">
              <p className="font-medium">
                {nothing
                  ? "Nothing to prune."
                  : `Would untag ${plan.untagged.length}, delete ${plan.deleted.length} image${plan.deleted.length === 1 ? "" : "s"} and reclaim ${formatBytes(plan.spaceReclaimed)}.`}
              </p>
              {!nothing ? (
                <ul className="max-h-56 space-y-1 overflow-auto font-mono text-xs">
                  {plan.untagged.map((u) => (
                    <li key={`u-${u}`} className="flex items-center gap-2">
                      <Badge tone="warning">untag</Badge>
                      <span className="truncate">{u}</span>
                    </li>
                  ))}
                  {plan.deleted.map((d) => (
                    <li key={`d-${d}`} className="flex items-center gap-2">
                      <Badge tone="danger">delete</Badge>
                      <span className="truncate" title={d}>
                        {shortId(d)}
                      </span>
                    </li>
                  ))}
                </ul>
              ) : null}
              <SkippedImages skipped={plan.skipped} />
            </div>
          ) : null}
          {prune.error ? <ErrorState title="Prune failed" message={errorMessage(prune.error)} /> : null}
        </div>
      )}
    </Dialog>
  );
}
