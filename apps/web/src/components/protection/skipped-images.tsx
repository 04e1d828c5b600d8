import { Badge } from "~/components/ui";
import { shortId } from "~/lib/format";

const WHY: Record<string, string> = {
  pinned: "pinned: unpin it on its image page to let prune remove it",
};

/** Images a prune matched but keeps (pinned), with why. */
export function SkippedImages({ skipped }: { skipped: readonly { id: string; reason: string }[] }) {
  if (skipped.length === 0) return null;
  return (
    <div data-testid="prune-skipped" className="space-y-1">
      <p className="text-sm font-medium">
        Kept {skipped.length} image{skipped.length === 1 ? "" : "s"}:
      </p>
      <ul className="max-h-40 space-y-1 overflow-auto font-mono text-xs">
        {skipped.map((s) => (
          <li key={s.id} className="flex items-center gap-2">
            <Badge tone="info">keep</Badge>
            <span title={s.id}>{shortId(s.id)}</span>
            <span className="truncate font-sans text-slate-500 dark:text-slate-400">{WHY[s.reason] ?? s.reason}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
