"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { RouterOutputs } from "@berth/api";
import { Guarded } from "~/components/account/guarded";
import { Badge, Button, EmptyState, ErrorState, Select, Table, TBody, Td, Th, THead, Tr } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { useTRPC } from "~/trpc/react";
import { PullProgressDialog } from "./pull-progress-dialog";

export type RemoteRow = RouterOutputs["search"]["remote"]["rows"][number];

const numberFormat = new Intl.NumberFormat("en");

const naturalOrder = new Intl.Collator("en", { numeric: true });

/**
 * The tag a one-click pull asks for: `latest` when the registry has it (or did not say), else the
 * highest plain version (`2.0` before `2.0-oci`), as catalogs list tags in no useful order.
 */
function defaultTag(row: RemoteRow): string {
  if (!row.tags || row.tags.length === 0 || row.tags.includes("latest")) return "latest";
  const plain = row.tags.filter((t) => !t.includes("-"));
  return [...(plain.length > 0 ? plain : row.tags)].sort(naturalOrder.compare).at(-1)!;
}

/** docker search's columns plus what Berth knows: whether it is in the store, and a one-click pull. */
export function RemoteResults({
  rows,
  registry,
  onPullWithOptions,
}: {
  rows: RemoteRow[];
  registry: string;
  onPullWithOptions: (ref: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [tags, setTags] = useState<Record<string, string>>({});
  const [following, setFollowing] = useState<{ id: string; ref: string } | null>(null);
  const [queued, setQueued] = useState<Record<string, string>>({});
  const pull = useMutation(
    trpc.jobs.pull.mutationOptions({
      onSuccess: ({ id }, { ref }) => {
        setQueued((q) => ({ ...q, [ref]: id }));
        setFollowing({ id, ref });
      },
    }),
  );

  if (rows.length === 0) {
    return (
      <EmptyState title={`No repository on ${registry} matches`}>
        The search asks the registry&apos;s search endpoint, or lists its catalog when it has none.
      </EmptyState>
    );
  }

  const refFor = (row: RemoteRow) => `${row.ref}:${tags[row.name] ?? defaultTag(row)}`;

  return (
    <>
      {pull.error ? (
        <ErrorState className="mb-3" title={`Could not pull ${pull.variables?.ref ?? ""}`} message={errorMessage(pull.error)} />
      ) : null}
      <Table data-testid="search-remote-table">
        <THead>
          <tr>
            <Th>Name</Th>
            <Th>Description</Th>
            <Th className="text-right">Stars</Th>
            <Th>Official</Th>
            <Th>Store</Th>
            <Th className="text-right">
              <span className="sr-only">Pull</span>
            </Th>
          </tr>
        </THead>
        <TBody>
          {rows.map((row) => {
            const ref = refFor(row);
            const jobId = queued[ref];
            return (
              <Tr key={row.name} data-testid="search-remote-row" data-name={row.name} data-ref={row.ref}>
                <Td className="font-medium break-all">{row.name}</Td>
                <Td className="max-w-md text-slate-600 dark:text-slate-400" title={row.description}>
                  <span className="line-clamp-2">{row.description || <span className="text-slate-400">—</span>}</span>
                </Td>
                <Td className="text-right tabular-nums">{numberFormat.format(row.starCount)}</Td>
                <Td>{row.isOfficial ? <Badge tone="success">[OK]</Badge> : null}</Td>
                <Td>
                  {row.inStore ? (
                    <Badge tone="info" className="whitespace-nowrap">
                      <span data-testid="search-in-store">In store</span>
                    </Badge>
                  ) : null}
                </Td>
                <Td className="text-right">
                  <div className="flex items-center justify-end gap-2">
                    {row.tags && row.tags.length > 0 ? (
                      <Select
                        aria-label={`Tag of ${row.name} to pull`}
                        className="h-8 max-w-32"
                        value={tags[row.name] ?? defaultTag(row)}
                        onChange={(e) => setTags((t) => ({ ...t, [row.name]: e.target.value }))}
                        data-testid="search-tag-select"
                      >
                        {[...new Set([defaultTag(row), ...row.tags])].map((t) => (
                          <option key={t} value={t}>
                            {t}
                          </option>
                        ))}
                      </Select>
                    ) : null}
                    <Guarded action="pull" reference={ref}>
                      {(ok) => (
                        <>
                          {jobId ? (
                            <Button
                              size="sm"
                              variant="secondary"
                              onClick={() => setFollowing({ id: jobId, ref })}
                              data-testid="search-pull-progress"
                            >
                              Progress
                            </Button>
                          ) : (
                            <Button
                              size="sm"
                              variant="primary"
                              disabled={!ok}
                              loading={pull.isPending && pull.variables?.ref === ref}
                              onClick={() => pull.mutate({ ref })}
                              data-testid="search-pull"
                              title={`Pull ${ref}`}
                            >
                              Pull
                            </Button>
                          )}
                          <Button
                            size="sm"
                            variant="ghost"
                            disabled={!ok}
                            onClick={() => onPullWithOptions(ref)}
                            data-testid="search-pull-options"
                            title="Pull with options…"
                          >
                            …
                          </Button>
                        </>
                      )}
                    </Guarded>
                  </div>
                </Td>
              </Tr>
            );
          })}
        </TBody>
      </Table>
      <PullProgressDialog
        job={following}
        onClose={() => {
          setFollowing(null);
          // The pull may have finished meanwhile: "In store" and the local matches follow the store.
          void queryClient.invalidateQueries({ queryKey: trpc.search.pathKey() });
        }}
      />
    </>
  );
}
