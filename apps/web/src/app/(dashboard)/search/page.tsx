"use client";

import { useQuery } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { PullDialog } from "~/components/jobs/pull-dialog";
import { LocalResults } from "~/components/search/local-results";
import { RemoteResults } from "~/components/search/remote-results";
import { PageHeader } from "~/components/shell/app-shell";
import { Button, Checkbox, ErrorState, Field, Input, TableSkeleton } from "~/components/ui";
import { errorMessage, pluralize } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

const DEFAULT_REGISTRY = "docker.io";

interface Submitted {
  term: string;
  registry: string;
  officialOnly: boolean;
}

/** docker's rule, for the heading before the server answers: a first part with `.` or `:` (or `localhost`) is a registry. */
function registryOf({ term, registry }: Submitted): string {
  const first = term.split("/")[0] ?? "";
  return term.includes("/") && (/[.:]/.test(first) || first === "localhost") ? first : registry;
}

/** `docker search` against a chosen registry, and the same term over the store, in one view. */
export default function SearchPage() {
  const trpc = useTRPC();
  const registriesListId = useId();
  const [term, setTerm] = useState("");
  const [registry, setRegistry] = useState(DEFAULT_REGISTRY);
  const [officialOnly, setOfficialOnly] = useState(false);
  const [submitted, setSubmitted] = useState<Submitted | null>(null);
  const [pullRef, setPullRef] = useState<string | null>(null);

  const registries = useQuery(trpc.registries.list.queryOptions(undefined, { staleTime: 60_000 }));
  const domains = [...new Set([DEFAULT_REGISTRY, ...(registries.data ?? []).map((r) => r.domain)])];

  const remote = useQuery(
    trpc.search.remote.queryOptions(
      {
        term: submitted?.term ?? "",
        registry: submitted?.registry || DEFAULT_REGISTRY,
        filters: submitted?.officialOnly ? { "is-official": ["true"] } : {},
      },
      { enabled: submitted !== null, retry: false, staleTime: 30_000 },
    ),
  );
  const local = useQuery(
    trpc.search.local.queryOptions({ term: submitted?.term ?? "", limit: 100 }, { enabled: submitted !== null, retry: false }),
  );

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    const next = term.trim();
    if (!next) return;
    setSubmitted({ term: next, registry: registry.trim() || DEFAULT_REGISTRY, officialOnly });
  }

  return (
    <>
      <PageHeader title="Search" description="Find images on a registry (its search endpoint, or its catalog) and in the shared store." />
      <form onSubmit={onSubmit} className="mb-6 flex flex-wrap items-end gap-3" data-testid="search-form">
        <Field label="Search term" hint="e.g. redis, or host:port/name to search that registry" className="min-w-64 flex-1">
          {(id) => (
            <Input
              id={id}
              autoFocus
              type="search"
              placeholder="TERM"
              value={term}
              onChange={(e) => setTerm(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              data-testid="search-term"
            />
          )}
        </Field>
        <Field label="Registry" hint="used when the term names none" className="w-64">
          {(id) => (
            <>
              <Input
                id={id}
                list={registriesListId}
                value={registry}
                onChange={(e) => setRegistry(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                data-testid="search-registry"
              />
              <datalist id={registriesListId}>
                {domains.map((d) => (
                  <option key={d} value={d} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Checkbox
          label="Official only"
          className="h-9"
          checked={officialOnly}
          onChange={(e) => setOfficialOnly(e.target.checked)}
          data-testid="search-official-only"
        />
        <Button type="submit" variant="primary" disabled={!term.trim()} loading={remote.isFetching} data-testid="search-submit">
          Search
        </Button>
      </form>

      {submitted ? (
        <div className="space-y-8">
          <section aria-labelledby="search-remote-heading" data-testid="search-remote">
            <h2 id="search-remote-heading" className="mb-3 text-sm font-semibold text-slate-900 dark:text-slate-100">
              On {remote.data?.registry ?? registryOf(submitted)}
              {remote.data ? (
                <span className="ml-2 font-normal text-slate-500 dark:text-slate-400">{pluralize(remote.data.rows.length, "result")}</span>
              ) : null}
            </h2>
            {remote.isPending ? (
              <TableSkeleton rows={4} />
            ) : remote.error ? (
              <ErrorState title="Search failed" message={errorMessage(remote.error)} onRetry={() => void remote.refetch()} />
            ) : (
              <RemoteResults rows={remote.data.rows} registry={remote.data.registry} onPullWithOptions={setPullRef} />
            )}
          </section>
          <section aria-labelledby="search-local-heading" data-testid="search-local">
            <h2 id="search-local-heading" className="mb-3 text-sm font-semibold text-slate-900 dark:text-slate-100">
              In the store
            </h2>
            {local.isPending ? (
              <TableSkeleton rows={3} />
            ) : local.error ? (
              <ErrorState title="Could not search the store" message={errorMessage(local.error)} onRetry={() => void local.refetch()} />
            ) : (
              <LocalResults rows={local.data.rows} total={local.data.total} term={submitted.term} />
            )}
          </section>
        </div>
      ) : null}
      <PullDialog open={pullRef !== null} onClose={() => setPullRef(null)} initialRef={pullRef ?? undefined} />
    </>
  );
}
