import { Option, type Command } from "commander";
import { renderTable, timeAgo } from "../format";
import { println, write } from "../output";
import type { PublicNamespace } from "../public-api";
import type { Runtime } from "../runtime";
import { act } from "./shared";

/**
 * `berth public …`: namespaces anyone may pull from through Berth's registry, without
 * `docker login`. Everyone signed in lists them; only an admin changes them (the server decides
 * and says why not). Pushing and removing in a public namespace still need the role for it.
 */

export function renderPublicNamespaces(rows: PublicNamespace[], now: Date): string {
  return renderTable([["NAMESPACE", "SET BY", "SINCE"], ...rows.map((r) => [r.namespace, r.setBy, timeAgo(r.setAt, now)])]);
}

export async function runPublicLs(rt: Runtime, opts: { format: "table" | "json" }): Promise<void> {
  const rows = await (await rt.api()).publicNamespaces.list();
  if (opts.format === "json") write(rt.io.stdout, `${JSON.stringify(rows, null, 2)}\n`);
  else write(rt.io.stdout, renderPublicNamespaces(rows, rt.now()));
}

export async function runPublicAdd(rt: Runtime, namespace: string): Promise<void> {
  const row = await (await rt.api()).publicNamespaces.add(namespace);
  println(rt.io.stdout, `Public: ${row.namespace}`);
}

export async function runPublicRm(rt: Runtime, namespace: string): Promise<void> {
  const row = await (await rt.api()).publicNamespaces.remove(namespace);
  println(rt.io.stdout, `Private: ${row.namespace}`);
}

export function registerPublic(parent: Command, rt: Runtime): Command {
  const pub = parent
    .command("public")
    .description("Manage public namespaces: anyone may pull their images from Berth's registry without signing in")
    .usage("COMMAND");

  pub
    .command("ls")
    .alias("list")
    .description("List public namespaces")
    .usage("[OPTIONS]")
    .addOption(new Option("--format <format>", "Output format").choices(["table", "json"]).default("table"))
    .action(act(rt, (opts: { format: "table" | "json" }) => runPublicLs(rt, opts)));

  pub
    .command("add")
    .description("Make NAMESPACE public, e.g. team-a (for team-a/app) or library (admin)")
    .usage("NAMESPACE")
    .argument("<NAMESPACE>")
    .action(act(rt, (namespace: string) => runPublicAdd(rt, namespace)));

  pub
    .command("rm")
    .alias("remove")
    .description("Make NAMESPACE private again: pulling needs signing in (admin)")
    .usage("NAMESPACE")
    .argument("<NAMESPACE>")
    .action(act(rt, (namespace: string) => runPublicRm(rt, namespace)));

  return pub;
}
