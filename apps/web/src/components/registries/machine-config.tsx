"use client";

import { useQuery } from "@tanstack/react-query";
import { Card, CardHeader, CopyButton, CopyField, ErrorState, Skeleton } from "~/components/ui";
import { useTRPC } from "~/trpc/react";
import { BerthMirrorConfig } from "./berth-mirror-config";
import { registryErrorMessage } from "./types";

/** "Use from your machine": the same mirrors and insecure registries for a local Docker or containerd. */
export function MachineConfig() {
  const trpc = useTRPC();
  const config = useQuery(trpc.registries.daemonJson.queryOptions());
  return (
    <Card className="mb-4" data-testid="machine-config">
      <CardHeader
        title="Use from your machine"
        description={
          <>
            Put this in <code>/etc/docker/daemon.json</code> and restart Docker, or run <code>berth registry daemon-json</code>.
          </>
        }
        actions={config.data ? <CopyButton text={config.data.daemonJson} label="Copy daemon.json" testId="daemon-json-copy" /> : null}
      />
      {config.isPending ? (
        <Skeleton className="h-24" />
      ) : config.error ? (
        <ErrorState
          title="Could not build daemon.json"
          message={registryErrorMessage(config.error)}
          onRetry={() => void config.refetch()}
        />
      ) : (
        <>
          <pre data-testid="daemon-json" className="overflow-x-auto rounded-md bg-slate-100 p-3 font-mono text-xs dark:bg-slate-800">
            {config.data.daemonJson}
          </pre>
          <ul className="mt-2 list-disc pl-5 text-xs text-slate-500 dark:text-slate-400" data-testid="daemon-json-notes">
            {config.data.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
          {config.data.hostsToml.map((h) => (
            <details key={h.domain} className="mt-3" data-testid="hosts-toml" data-domain={h.domain}>
              <summary className="cursor-pointer text-sm">
                containerd: <code>{h.path}</code>
              </summary>
              <div className="mt-2">
                <CopyField text={h.text} fit="pre" />
              </div>
            </details>
          ))}
          {config.data.berthMirror ? <BerthMirrorConfig mirror={config.data.berthMirror} /> : null}
        </>
      )}
    </Card>
  );
}
