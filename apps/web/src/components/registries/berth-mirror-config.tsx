"use client";

import { CopyButton } from "~/components/ui";

interface BerthMirror {
  url: string;
  daemonJson: string;
  hostsToml: { path: string; text: string };
  notes: string[];
}

/** Berth itself as the machine's Docker Hub mirror: daemon.json and containerd snippets pointing here. */
export function BerthMirrorConfig({ mirror }: { mirror: BerthMirror }) {
  return (
    <section className="mt-4 border-t border-slate-100 pt-3 dark:border-slate-800" data-testid="berth-mirror" data-url={mirror.url}>
      <h3 className="text-sm font-medium">Pull Docker Hub images through Berth</h3>
      <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">
        With Berth as the mirror, every Docker Hub pull is cached here once for the whole team.
      </p>
      <div className="flex items-start gap-2">
        <pre
          data-testid="berth-mirror-daemon-json"
          className="min-w-0 flex-1 overflow-x-auto rounded-md bg-slate-100 p-3 font-mono text-xs dark:bg-slate-800"
        >
          {mirror.daemonJson}
        </pre>
        <CopyButton text={mirror.daemonJson} label="Copy daemon.json" />
      </div>
      <details className="mt-3" data-testid="berth-mirror-hosts-toml">
        <summary className="cursor-pointer text-sm">
          containerd: <code>{mirror.hostsToml.path}</code>
        </summary>
        <div className="mt-2 flex items-start gap-2">
          <pre className="min-w-0 flex-1 overflow-x-auto rounded-md bg-slate-100 p-3 font-mono text-xs dark:bg-slate-800">
            {mirror.hostsToml.text}
          </pre>
          <CopyButton text={mirror.hostsToml.text} />
        </div>
      </details>
      <ul className="mt-2 list-disc pl-5 text-xs text-slate-500 dark:text-slate-400">
        {mirror.notes.map((note) => (
          <li key={note}>{note}</li>
        ))}
      </ul>
    </section>
  );
}
