"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Badge, Button, Table, TBody, Td, Th, THead, Tr, ActionsTh } from "~/components/ui";
import { formatBytes, formatDateTime, formatRelative } from "~/lib/format";
import { useTRPC } from "~/trpc/react";
import { registryErrorMessage, type MirrorRow } from "./types";

/**
 * A registry's mirrors in the order pulls try them, with their health from real pulls and
 * tests. `urls` is the list being edited (admins reorder it before saving); `saved` holds the
 * health of the mirrors already stored.
 */
export function MirrorTable({
  domain,
  urls,
  saved,
  editable,
  onChange,
}: {
  domain: string;
  urls: string[];
  saved: MirrorRow[];
  editable: boolean;
  onChange: (urls: string[]) => void;
}) {
  const move = (from: number, to: number) => {
    const next = [...urls];
    const [item] = next.splice(from, 1);
    if (item !== undefined) next.splice(to, 0, item);
    onChange(next);
  };
  return (
    <Table data-testid="mirror-table">
      <THead>
        <tr>
          <Th>#</Th>
          <Th>Mirror</Th>
          <Th>Health</Th>
          <Th>Last success</Th>
          <Th>Last error</Th>
          <Th className="text-right">Latency</Th>
          <Th className="text-right">Served</Th>
          <ActionsTh />
        </tr>
      </THead>
      <TBody>
        {urls.map((url, i) => {
          const health = saved.find((m) => m.url === url);
          return (
            <Tr key={url} data-testid="mirror-row" data-url={url}>
              <Td className="tabular-nums">{i + 1}</Td>
              <Td className="font-mono text-xs break-all">{url}</Td>
              <Td>
                {!health ? (
                  <Badge tone="neutral">not saved</Badge>
                ) : health.healthy ? (
                  <Badge tone="success">
                    <span data-testid="mirror-health">healthy</span>
                  </Badge>
                ) : (
                  <Badge tone="danger">
                    <span data-testid="mirror-health">unhealthy</span>
                  </Badge>
                )}
              </Td>
              <Td title={formatDateTime(health?.lastSuccessAt)} data-testid="mirror-last-success">
                {health?.lastSuccessAt ? formatRelative(health.lastSuccessAt) : "never"}
              </Td>
              <Td className="max-w-xs text-xs" data-testid="mirror-last-error">
                {health?.lastError ? (
                  <span title={formatDateTime(health.lastErrorAt)} className="text-rose-700 dark:text-rose-300">
                    {health.lastErrorAt ? `${formatRelative(health.lastErrorAt)}: ` : ""}
                    {health.lastError}
                  </span>
                ) : (
                  "—"
                )}
              </Td>
              <Td className="text-right tabular-nums" data-testid="mirror-latency">
                {health?.latencyMs != null ? `${health.latencyMs} ms` : "—"}
              </Td>
              <Td className="text-right tabular-nums" data-testid="mirror-bytes-served">
                {health ? formatBytes(health.bytesServed) : "—"}
              </Td>
              <Td className="text-right whitespace-nowrap">
                {health ? <TestButton domain={domain} url={url} /> : null}
                {editable ? (
                  <>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Move ${url} up`}
                      disabled={i === 0}
                      onClick={() => move(i, i - 1)}
                      data-testid="mirror-up"
                    >
                      ↑
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Move ${url} down`}
                      disabled={i === urls.length - 1}
                      onClick={() => move(i, i + 1)}
                      data-testid="mirror-down"
                    >
                      ↓
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Remove ${url}`}
                      onClick={() => onChange(urls.filter((u) => u !== url))}
                      data-testid="mirror-remove"
                    >
                      Remove
                    </Button>
                  </>
                ) : null}
              </Td>
            </Tr>
          );
        })}
      </TBody>
    </Table>
  );
}

/** Pings the mirror's /v2/ on the server; the result lands in the health columns. */
function TestButton({ domain, url }: { domain: string; url: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const test = useMutation(
    trpc.registries.testMirror.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.registries.list.queryKey() }),
    }),
  );
  const result = test.data;
  return (
    <span className="mr-1 inline-flex items-center gap-1.5">
      {result ? (
        <span
          data-testid="mirror-test-result"
          className={result.ok ? "text-xs text-emerald-700 dark:text-emerald-300" : "text-xs text-rose-700 dark:text-rose-300"}
        >
          {result.ok ? `OK ${result.latencyMs} ms` : "failed"}
        </span>
      ) : test.error ? (
        <span data-testid="mirror-test-result" className="text-xs text-rose-700 dark:text-rose-300">
          {registryErrorMessage(test.error)}
        </span>
      ) : null}
      <Button size="sm" loading={test.isPending} onClick={() => test.mutate({ domain, url })} data-testid="mirror-test">
        Test
      </Button>
    </span>
  );
}
