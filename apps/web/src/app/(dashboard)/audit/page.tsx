"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { AuditTable } from "~/components/audit/audit-table";
import { PageHeader } from "~/components/shell/app-shell";
import { Button, ButtonLink, Card, EmptyState, ErrorState, Field, Input, TableSkeleton } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { toAuditEvents } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

const ACTIONS = [
  "image.load",
  "image.save",
  "image.tag",
  "image.remove",
  "image.prune",
  "auth.sign-in",
  "auth.sign-out",
  "token.create",
  "token.revoke",
];

interface Filters {
  actor: string;
  action: string;
  repository: string;
  from: string;
  to: string;
}
const EMPTY: Filters = { actor: "", action: "", repository: "", from: "", to: "" };

/** datetime-local value (local time) → ISO string, or undefined when blank/invalid. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function apiFilters(f: Filters) {
  return {
    actor: f.actor.trim() || undefined,
    action: f.action.trim() || undefined,
    repository: f.repository.trim() || undefined,
    from: toIso(f.from),
    to: toIso(f.to),
  };
}

function exportHref(format: "csv" | "jsonl", f: Filters) {
  const params = new URLSearchParams({ format });
  for (const [k, v] of Object.entries(apiFilters(f))) if (v) params.set(k, v);
  return `/api/audit/export?${params.toString()}`;
}

export default function AuditPage() {
  const trpc = useTRPC();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);

  const query = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      { ...apiFilters(applied), limit: 50 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const events = useMemo(() => (query.data?.pages ?? []).flatMap((p) => toAuditEvents(p)), [query.data]);

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setApplied(draft);
  }
  const filtered = Object.values(applied).some(Boolean);

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Who did what, newest first."
        actions={
          <>
            <ButtonLink href={exportHref("csv", applied)} external variant="secondary" data-testid="audit-export-csv">
              Export CSV
            </ButtonLink>
            <ButtonLink href={exportHref("jsonl", applied)} external variant="secondary" data-testid="audit-export-jsonl">
              Export JSON
            </ButtonLink>
          </>
        }
      />

      <Card className="mb-4">
        <form
          onSubmit={onSubmit}
          className="grid items-end gap-3 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-[repeat(3,minmax(0,1fr))_repeat(2,minmax(13rem,1fr))_auto]"
          aria-label="Audit filters"
        >
          <Field label="Person">
            {(id) => (
              <Input
                id={id}
                placeholder="username"
                value={draft.actor}
                onChange={(e) => setDraft({ ...draft, actor: e.target.value })}
                data-testid="audit-filter-actor"
              />
            )}
          </Field>
          <Field label="Action">
            {(id) => (
              <>
                <Input
                  id={id}
                  list="audit-actions"
                  placeholder="any"
                  value={draft.action}
                  onChange={(e) => setDraft({ ...draft, action: e.target.value })}
                  data-testid="audit-filter-action"
                />
                <datalist id="audit-actions">
                  {ACTIONS.map((a) => (
                    <option key={a} value={a} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <Field label="Repository">
            {(id) => (
              <Input
                id={id}
                placeholder="e.g. team/app"
                value={draft.repository}
                onChange={(e) => setDraft({ ...draft, repository: e.target.value })}
                data-testid="audit-filter-repository"
              />
            )}
          </Field>
          <Field label="From">
            {(id) => (
              <Input id={id} type="datetime-local" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
            )}
          </Field>
          <Field label="To">
            {(id) => <Input id={id} type="datetime-local" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />}
          </Field>
          <div className="flex gap-2">
            <Button type="submit" variant="primary" data-testid="audit-filter-apply">
              Apply
            </Button>
            <Button
              disabled={!filtered && !Object.values(draft).some(Boolean)}
              onClick={() => {
                setDraft(EMPTY);
                setApplied(EMPTY);
              }}
            >
              Clear
            </Button>
          </div>
        </form>
      </Card>

      {query.isPending ? (
        <TableSkeleton rows={8} />
      ) : query.error && events.length === 0 ? (
        <ErrorState title="Could not load the audit log" message={errorMessage(query.error)} onRetry={() => void query.refetch()} />
      ) : events.length === 0 ? (
        <EmptyState title={filtered ? "No events match these filters" : "No events recorded yet"} />
      ) : (
        <>
          <AuditTable events={events} />
          {query.error ? <ErrorState className="mt-3" title="Could not load more" message={errorMessage(query.error)} /> : null}
          <div className="mt-4 flex items-center justify-center gap-3 text-sm text-slate-500">
            <span>{events.length} events</span>
            {query.hasNextPage ? (
              <Button onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage} data-testid="audit-load-more">
                Load more
              </Button>
            ) : null}
          </div>
        </>
      )}
    </>
  );
}
