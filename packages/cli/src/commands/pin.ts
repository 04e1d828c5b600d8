import type { Command } from "commander";
import { println } from "../output";
import type { Runtime } from "../runtime";
import { act } from "./shared";

/** `berth pin IMAGE`: a pinned image is never pruned, and rmi refuses to delete it until it is unpinned. */
export async function runPin(rt: Runtime, ref: string, pinned: boolean): Promise<void> {
  const api = (await rt.api()).protection;
  const result = pinned ? await api.pin(ref) : await api.unpin(ref);
  println(rt.io.stdout, `${pinned ? "Pinned" : "Unpinned"}: ${result.id}`);
}

export function registerPin(parent: Command, rt: Runtime): void {
  parent
    .command("pin")
    .description("Pin an image: prune never removes it, rmi refuses to until it is unpinned (maintainer)")
    .usage("IMAGE")
    .argument("<IMAGE>")
    .action(act(rt, (ref: string) => runPin(rt, ref, true)));
  parent
    .command("unpin")
    .description("Unpin an image (maintainer)")
    .usage("IMAGE")
    .argument("<IMAGE>")
    .action(act(rt, (ref: string) => runPin(rt, ref, false)));
}
