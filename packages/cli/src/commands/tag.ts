import type { Command } from "commander";
import type { Runtime } from "../runtime";
import { act } from "./shared";

export async function runTag(rt: Runtime, source: string, target: string): Promise<void> {
  const api = await rt.api();
  await api.tag(source, target);
}

export function registerTag(parent: Command, rt: Runtime, name: string): Command {
  return parent
    .command(name)
    .description("Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    .usage("SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")
    .argument("<SOURCE_IMAGE[:TAG]>")
    .argument("<TARGET_IMAGE[:TAG]>")
    .action(act(rt, (source: string, target: string) => runTag(rt, source, target)));
}
