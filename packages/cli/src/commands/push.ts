import type { Command } from "commander";
import { tryParseReference } from "@berth/engine";
import type { PullJob } from "../api";
import { println } from "../output";
import type { Runtime } from "../runtime";
import { followJob } from "./follow-job";
import { act } from "./shared";

/** docker's last line per tag: `1.0: digest: sha256:… size: 528`. */
const DIGEST_LINE = /^\S+: digest: sha256:[a-f0-9]{64} size: \d+$/;
/** A failed job's last line repeats its error, which is printed once, on stderr. */
const ERROR_LINE = /^Error\b/;

/**
 * docker's non-TTY push output, from successive snapshots of a job: "The push refers to
 * repository […]", then one `<id>: <status>` line per layer status change, then each tag's
 * digest line as it comes. Returns the lines not printed before.
 */
export function pushPrinter(): (job: Pick<PullJob, "lines" | "layers">) => string[] {
  let printedLines = 0;
  const statuses = new Map<string, string>();
  return ({ lines, layers }) => {
    const shown = lines.filter((l) => !ERROR_LINE.test(l));
    const fresh = shown.slice(printedLines);
    printedLines = shown.length;
    const out = fresh.filter((l) => !DIGEST_LINE.test(l));
    for (const l of layers) {
      if (statuses.get(l.id) === l.status) continue;
      statuses.set(l.id, l.status);
      out.push(`${l.id}: ${l.status}`);
    }
    out.push(...fresh.filter((l) => DIGEST_LINE.test(l)));
    return out;
  };
}

/**
 * docker's `push`, as a server job with the team's credentials for the registry: starts it,
 * polls it and prints its progress. Ctrl-C cancels the job; a timeout leaves it running.
 */
export async function runPush(rt: Runtime, ref: string, opts: { allTags?: boolean; quiet?: boolean }): Promise<void> {
  const api = await rt.api();
  const parsed = tryParseReference(ref);
  if (!opts.allTags && parsed && parsed.tag === undefined && parsed.digest === undefined && !opts.quiet) {
    println(rt.io.stdout, "Using default tag: latest");
  }
  const { id } = await api.pushImage({ ref, ...(opts.allTags ? { allTags: true } : {}) });
  await followJob(rt, api, id, { kind: "push", print: pushPrinter(), quiet: opts.quiet });
}

export function registerPush(parent: Command, rt: Runtime, name: string): Command {
  return parent
    .command(name)
    .description("Upload an image from the Berth store to a registry")
    .usage("[OPTIONS] NAME[:TAG]")
    .argument("<NAME[:TAG]>")
    .option("-a, --all-tags", "Push all tags of an image to the repository")
    .option("-q, --quiet", "Suppress verbose output")
    .action(act(rt, (ref: string, opts: { allTags?: boolean; quiet?: boolean }) => runPush(rt, ref, opts)));
}
