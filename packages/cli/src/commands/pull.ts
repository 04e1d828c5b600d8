import type { Command } from "commander";
import { referenceString, tryParseReference, withDefaultTag } from "@berth/engine";
import type { PullJob } from "../api";
import { println } from "../output";
import type { Runtime } from "../runtime";
import { followJob } from "./follow-job";
import { act } from "./shared";

const TRAILER = /^(Digest|Status):/;
/** A failed job's last line repeats its error, which is printed once, on stderr. */
const ERROR_LINE = /^Error\b/;

/**
 * docker's non-TTY pull output, from successive snapshots of a job: the job's leading lines
 * ("Pulling from …") once, then one `<id>: <status>` line per layer status change, then, once
 * the job is finished, the `Digest:` and `Status:` lines (the server may record the digest
 * while layers are still coming). Returns the lines not printed before.
 */
export function pullPrinter(): (job: Pick<PullJob, "state" | "lines" | "layers">) => string[] {
  let printedLead = 0;
  let printedTrail = 0;
  const statuses = new Map<string, string>();
  return ({ state, lines, layers }) => {
    const shown = lines.filter((l) => !ERROR_LINE.test(l));
    const split = shown.findIndex((l) => TRAILER.test(l));
    const lead = split === -1 ? shown : shown.slice(0, split);
    const trail = split === -1 ? [] : shown.slice(split);
    const out = lead.slice(printedLead);
    printedLead = lead.length;
    for (const l of layers) {
      if (statuses.get(l.id) === l.status) continue;
      statuses.set(l.id, l.status);
      out.push(`${l.id}: ${l.status}`);
    }
    if (state !== "queued" && state !== "running") {
      out.push(...trail.slice(printedTrail));
      printedTrail = trail.length;
    }
    return out;
  };
}

/** `127.0.0.1:5000/fixtures/app:1.0`, `docker.io/library/redis:latest`: what docker prints last. */
export function pulledReference(ref: string): string {
  const parsed = tryParseReference(ref);
  if (!parsed) return ref;
  return referenceString(parsed.digest ? { ...parsed, tag: undefined } : withDefaultTag(parsed));
}

/**
 * docker's `pull`, as a server job: starts it, polls it and prints its progress. Ctrl-C
 * cancels the job; a timeout leaves it running on the server.
 */
export async function runPull(rt: Runtime, ref: string, opts: { platform?: string; quiet?: boolean }): Promise<void> {
  const api = await rt.api();
  const { id } = await api.pullImage({
    ref,
    ...(opts.platform ? { platform: opts.platform } : {}),
  });

  await followJob(rt, api, id, { kind: "pull", print: pullPrinter(), quiet: opts.quiet });
  println(rt.io.stdout, pulledReference(ref));
}

export function registerPull(parent: Command, rt: Runtime, name: string): Command {
  return parent
    .command(name)
    .description("Download an image from a registry into the Berth store")
    .usage("[OPTIONS] NAME[:TAG|@DIGEST]")
    .argument("<NAME[:TAG|@DIGEST]>")
    .option("--platform <string>", 'Set platform if server is multi-platform capable (e.g. "linux/amd64")')
    .option("-q, --quiet", "Suppress verbose output")
    .action(act(rt, (ref: string, opts: { platform?: string; quiet?: boolean }) => runPull(rt, ref, opts)));
}
