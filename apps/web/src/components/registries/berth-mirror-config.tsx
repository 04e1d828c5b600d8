"use client";

import { CopyField } from "~/components/ui";

interface BerthMirror {
  url: string;
  daemonJson: string;
  hostsToml: { path: string; text: string };
  otherRegistries: { domain: string; path: string; text: string }[];
  notes: string[];
}

/** Berth itself as the machine's Docker Hub mirror (and containerd's for the other registries set up here): snippets pointing here. */
export function BerthMirrorConfig({ mirror }: { mirror: BerthMirror }) {
  return (
    <section className="mt-4 border-t border-slate-100 pt-3 dark:border-slate-800" data-testid="berth-mirror" data-url={mirror.url}>
      <h3 className="text-sm font-medium">
        Pull {new Intl.ListFormat("en").format(["Docker Hub", ...mirror.otherRegistries.map((r) => r.domain)])} images through Berth
      </h3>
      <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">
        With Berth as the mirror, every such pull is cached here once for the whole team.
      </p>
      <CopyField text={mirror.daemonJson} testId="berth-mirror-daemon-json" fit="pre" label="Copy daemon.json" />
      <details className="mt-3" data-testid="berth-mirror-hosts-toml">
        <summary className="cursor-pointer text-sm">
          containerd: <code>{mirror.hostsToml.path}</code>
        </summary>
        <div className="mt-2">
          <CopyField text={mirror.hostsToml.text} fit="pre" />
        </div>
      </details>
      {mirror.otherRegistries.map((r) => (
        <details key={r.domain} className="mt-3" data-testid="berth-mirror-hosts-toml" data-domain={r.domain}>
          <summary className="cursor-pointer text-sm">
            containerd, {r.domain} through Berth: <code>{r.path}</code>
          </summary>
          <div className="mt-2">
            <CopyField text={r.text} fit="pre" />
          </div>
        </details>
      ))}
      <ul className="mt-2 list-disc pl-5 text-xs text-slate-500 dark:text-slate-400">
        {mirror.notes.map((note) => (
          <li key={note}>{note}</li>
        ))}
      </ul>
    </section>
  );
}
