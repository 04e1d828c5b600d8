import type { Command } from "commander";
import { compileTemplate } from "../format";
import { println, write } from "../output";
import type { Runtime } from "../runtime";
import { act } from "./shared";

/** Go's `json.MarshalIndent(v, "", "    ")`, including its HTML-safe escaping of `<`, `>`, `&`. */
export function goJsonIndent(value: unknown): string {
  return JSON.stringify(value, null, 4)
    .replaceAll("<", "\\u003c")
    .replaceAll(">", "\\u003e")
    .replaceAll("&", "\\u0026")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

export interface InspectOptions {
  format?: string;
}

/**
 * docker's `inspect`: the found objects as one JSON array (or one template line each),
 * then one error line per unknown name and exit 1.
 */
export async function runInspect(
  rt: Runtime,
  refs: string[],
  opts: InspectOptions,
  missingMessage: (ref: string) => string,
): Promise<number> {
  const template = opts.format ? compileTemplate(opts.format) : undefined;
  const api = await rt.api();
  const { images, missing } = await api.inspectImages(refs);
  if (template) {
    for (const image of images) println(rt.io.stdout, template(image));
  } else {
    println(rt.io.stdout, goJsonIndent(images));
  }
  for (const ref of missing) write(rt.io.stderr, `${missingMessage(ref)}\n`);
  return missing.length ? 1 : 0;
}

export function registerInspect(parent: Command, rt: Runtime, name: string, missingMessage: (ref: string) => string): Command {
  return parent
    .command(name)
    .description(
      name === "inspect" ? "Return low-level information on Berth objects" : "Display detailed information on one or more images",
    )
    .usage("[OPTIONS] IMAGE [IMAGE...]")
    .argument("<IMAGE...>")
    .option("-f, --format <string>", "Format output using a custom template")
    .option("--type <string>", 'Return JSON for specified type (only "image" is supported)')
    .action(
      act(rt, async (refs: string[], opts: InspectOptions & { type?: string }) => {
        if (opts.type && opts.type !== "image") {
          write(rt.io.stderr, `"${opts.type}" is not a valid value for --type\n`);
          return 1;
        }
        return runInspect(rt, refs, opts, missingMessage);
      }),
    );
}
