"use client";

import Link from "next/link";
import type { RouterOutputs } from "@berth/api";
import { Badge, EmptyState, Table, TBody, Td, Th, THead, Tr } from "~/components/ui";
import { formatBytes, shortId } from "~/lib/format";
import { imageHref } from "~/lib/models";

export type LocalRow = RouterOutputs["search"]["local"]["rows"][number];

const tones = { repository: "info", tag: "neutral", label: "warning" } as const;

/** What the store already holds that matches: by repository, tag, or a label key or value. */
export function LocalResults({ rows, total, term }: { rows: LocalRow[]; total: number; term: string }) {
  if (rows.length === 0) {
    return <EmptyState title={`Nothing in the store matches “${term}”`}>Repositories, tags and labels were searched.</EmptyState>;
  }
  return (
    <>
      <Table data-testid="search-local-table">
        <THead>
          <tr>
            <Th>Image</Th>
            <Th>Matched on</Th>
            <Th>Image ID</Th>
            <Th className="text-right">Size</Th>
          </tr>
        </THead>
        <TBody>
          {rows.map((row) => {
            const name = `${row.repository}:${row.tag}`;
            return (
              <Tr key={`${name}@${row.imageId}`} data-testid="search-local-row" data-ref={name} data-matched-on={row.matchedOn}>
                <Td className="font-medium break-all">
                  <Link href={imageHref(row.imageId)} className="hover:underline" data-testid="search-local-link">
                    {row.repository === "<none>" ? "<none>:<none>" : name}
                  </Link>
                </Td>
                <Td>
                  <Badge tone={tones[row.matchedOn]}>{row.matchedOn}</Badge>
                  {row.label ? (
                    <span className="ml-2 font-mono text-xs text-slate-500 dark:text-slate-400">
                      {row.label.key}={row.label.value}
                    </span>
                  ) : null}
                </Td>
                <Td className="font-mono text-xs" title={row.imageId}>
                  {shortId(row.imageId)}
                </Td>
                <Td className="text-right whitespace-nowrap tabular-nums">{formatBytes(row.size)}</Td>
              </Tr>
            );
          })}
        </TBody>
      </Table>
      {total > rows.length ? (
        <p className="mt-2 text-xs text-slate-500 dark:text-slate-400" data-testid="search-local-more">
          Showing {rows.length} of {total} matches.
        </p>
      ) : null}
    </>
  );
}
