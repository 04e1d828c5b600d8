import { Option, type Command } from "commander";
import { renderTable, timeAgo } from "../format";
import { println, write } from "../output";
import type { ProtectionRule } from "../protection-api";
import type { Runtime } from "../runtime";
import { act } from "./shared";

/**
 * `berth protect …`: tag protection rules. A tag of a repository in NAMESPACE whose name matches
 * PATTERN (`*` any run of characters, `?` one) can be moved or removed only by an admin.
 * Changing rules needs a maintainer of the namespace; the server decides and says why not.
 */

export function renderRules(rules: ProtectionRule[], now: Date): string {
  return renderTable([
    ["NAMESPACE", "PATTERN", "CREATED BY", "CREATED"],
    ...rules.map((r) => [r.namespace, r.pattern, r.createdBy, timeAgo(r.createdAt, now)]),
  ]);
}

export async function runProtectLs(rt: Runtime, namespace: string | undefined, opts: { format: "table" | "json" }): Promise<void> {
  const rules = await (await rt.api()).protection.rules(namespace);
  if (opts.format === "json") write(rt.io.stdout, `${JSON.stringify(rules, null, 2)}\n`);
  else write(rt.io.stdout, renderRules(rules, rt.now()));
}

export async function runProtectAdd(rt: Runtime, namespace: string, pattern: string): Promise<void> {
  const rule = await (await rt.api()).protection.add({ namespace, pattern });
  println(rt.io.stdout, `Protected: ${rule.namespace} ${rule.pattern}`);
}

export async function runProtectRm(rt: Runtime, namespace: string, pattern: string): Promise<void> {
  const rule = await (await rt.api()).protection.remove({ namespace, pattern });
  println(rt.io.stdout, `Unprotected: ${rule.namespace} ${rule.pattern}`);
}

export function registerProtect(parent: Command, rt: Runtime): Command {
  const protect = parent
    .command("protect")
    .description("Manage tag protection rules: matching tags are moved or removed only by an admin")
    .usage("COMMAND");

  protect
    .command("ls")
    .alias("list")
    .description("List tag protection rules")
    .usage("[OPTIONS] [NAMESPACE]")
    .argument("[NAMESPACE]")
    .addOption(new Option("--format <format>", "Output format").choices(["table", "json"]).default("table"))
    .action(act(rt, (namespace: string | undefined, opts: { format: "table" | "json" }) => runProtectLs(rt, namespace, opts)));

  protect
    .command("add")
    .description('Protect the tags of NAMESPACE matching PATTERN, e.g. "release-*" or "v*.*.*" (maintainer)')
    .usage("NAMESPACE PATTERN")
    .argument("<NAMESPACE>")
    .argument("<PATTERN>")
    .action(act(rt, (namespace: string, pattern: string) => runProtectAdd(rt, namespace, pattern)));

  protect
    .command("rm")
    .alias("remove")
    .description("Remove a tag protection rule (maintainer)")
    .usage("NAMESPACE PATTERN")
    .argument("<NAMESPACE>")
    .argument("<PATTERN>")
    .action(act(rt, (namespace: string, pattern: string) => runProtectRm(rt, namespace, pattern)));

  return protect;
}
