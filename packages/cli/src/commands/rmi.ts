import type { Command } from "commander";
import { println } from "../output";
import type { Runtime } from "../runtime";
import { act } from "./shared";

/**
 * docker's `rmi`: `Untagged: x` / `Deleted: sha256:…` for what went, then every failure as
 * `Error response from daemon: …` on stderr and exit 1 (the other images are still removed).
 */
export async function runRmi(rt: Runtime, refs: string[], opts: { force?: boolean }): Promise<number> {
  const api = await rt.api();
  const results = await api.remove(refs, Boolean(opts.force));
  const errors: string[] = [];
  for (const result of results) {
    for (const item of result.items) {
      println(rt.io.stdout, "untagged" in item ? `Untagged: ${item.untagged}` : `Deleted: ${item.deleted}`);
    }
    if (result.error) errors.push(result.error);
  }
  for (const error of errors) println(rt.io.stderr, `Error response from daemon: ${error}`);
  return errors.length ? 1 : 0;
}

export function registerRmi(parent: Command, rt: Runtime, name: string, aliases: string[] = []): Command {
  return parent
    .command(name)
    .aliases(aliases)
    .description("Remove one or more images")
    .usage("[OPTIONS] IMAGE [IMAGE...]")
    .argument("<IMAGE...>")
    .option("-f, --force", "Force removal of the image")
    .option("--no-prune", "Do not delete untagged parents (accepted for compatibility)")
    .action(act(rt, (refs: string[], opts: { force?: boolean }) => runRmi(rt, refs, opts)));
}
