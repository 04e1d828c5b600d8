import type { Command } from "commander";
import { Cancelled } from "../errors";
import { humanSize } from "../format";
import { println, readLine, write } from "../output";
import type { Runtime } from "../runtime";
import { act, filterOption, type Filters } from "./shared";

export const DANGLING_WARNING = "WARNING! This will remove all dangling images.\nAre you sure you want to continue?";
export const ALL_WARNING =
  "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?";

/**
 * docker's `prompt.Confirm`: prints the question, reads one line from stdin whether or not it
 * is a terminal; only `y`/`Y` confirms. (So `echo y | berth image prune` works and a closed
 * stdin cancels, like docker.)
 */
export async function confirm(rt: Runtime, message: string): Promise<boolean> {
  write(rt.io.stdout, `${message} [y/N] `);
  const answer = await readLine(rt.io.stdin);
  return (answer ?? "").trim().toLowerCase() === "y";
}

export interface PruneOptions {
  all?: boolean;
  force?: boolean;
  filter: Filters;
  dryRun?: boolean;
}

export async function runPrune(rt: Runtime, opts: PruneOptions): Promise<void> {
  const api = await rt.api();
  const all = Boolean(opts.all);
  if (!opts.force && !opts.dryRun) {
    if (!(await confirm(rt, all ? ALL_WARNING : DANGLING_WARNING))) throw new Cancelled("image prune has been cancelled");
  }
  const result = await api.prune({ all, filters: opts.filter, dryRun: Boolean(opts.dryRun) });
  const lines = [...result.untagged.map((u) => `untagged: ${u}`), ...result.deleted.map((d) => `deleted: ${d}`)];
  if (lines.length) {
    println(rt.io.stdout, opts.dryRun ? "Would delete images:" : "Deleted Images:");
    for (const line of lines) println(rt.io.stdout, line);
    println(rt.io.stdout);
  }
  // Not in docker's report: Berth keeps pinned images, and says so rather than leave people wondering.
  if (result.skipped.length) {
    println(rt.io.stdout, opts.dryRun ? "Would keep images:" : "Kept Images:");
    for (const s of result.skipped) println(rt.io.stdout, `kept: ${s.id} (${s.reason})`);
    println(rt.io.stdout);
  }
  println(rt.io.stdout, `${opts.dryRun ? "Total reclaimable space:" : "Total reclaimed space:"} ${humanSize(result.spaceReclaimed)}`);
}

export function registerPrune(parent: Command, rt: Runtime, name: string): Command {
  const cmd = parent
    .command(name)
    .description("Remove unused images")
    .usage("[OPTIONS]")
    .option("-a, --all", "Remove all unused images, not just dangling ones")
    .option("-f, --force", "Do not prompt for confirmation")
    .option("--dry-run", "Show what would be removed without removing anything");
  filterOption(cmd, 'Provide filter values (e.g. "until=<timestamp>")', "");
  return cmd.action(act(rt, (opts: PruneOptions) => runPrune(rt, opts)));
}
