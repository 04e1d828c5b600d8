import type { InstructionFlag, InstructionKind } from "./ast";

/**
 * The flags each instruction accepts (as in BuildKit's instructions package), and their checks: an unknown flag,
 * a missing value, a bad boolean or a repeated single-valued flag is an error.
 */

type FlagType = "string" | "strings" | "bool";

const FLAGS: Partial<Record<InstructionKind, Record<string, FlagType>>> = {
  FROM: { platform: "string" },
  RUN: { mount: "strings", network: "string", security: "string", device: "strings" },
  COPY: { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "strings" },
  ADD: {
    chown: "string",
    chmod: "string",
    link: "bool",
    checksum: "string",
    "keep-git-dir": "bool",
    exclude: "strings",
    unpack: "bool",
  },
  HEALTHCHECK: { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" },
};

/** Parses `--name[=value]` words for `kind`; throws Error naming the flag. */
export function parseFlags(kind: InstructionKind, words: string[]): InstructionFlag[] {
  const allowed = FLAGS[kind] ?? {};
  const flags: InstructionFlag[] = [];
  for (const word of words) {
    if (!word.startsWith("--")) throw new Error(`flag ${JSON.stringify(word)} must start with --`);
    const eq = word.indexOf("=");
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const value = eq < 0 ? null : word.slice(eq + 1);
    const type = allowed[name];
    if (type === undefined) {
      const names = Object.keys(allowed).map((n) => `--${n}`);
      const hint = names.length > 0 ? `${kind} accepts ${names.join(", ")}` : `${kind} takes no flags`;
      throw new Error(`unknown flag: --${name} (${hint})`);
    }
    if (type !== "strings" && flags.some((f) => f.name === name)) throw new Error(`duplicate flag specified: --${name}`);
    if (type === "bool") {
      if (value !== null && !/^(true|false)$/i.test(value)) {
        throw new Error(value === "" ? `missing a value on flag: --${name}` : `expecting boolean value for flag --${name}, not: ${value}`);
      }
    } else if (value === null) {
      throw new Error(`missing a value on flag: --${name}`);
    }
    flags.push({ name, value });
  }
  return flags;
}

/** The value of a string flag, undefined when not given. */
export function flagValue(flags: readonly InstructionFlag[], name: string): string | undefined {
  const flag = flags.find((f) => f.name === name);
  return flag ? (flag.value ?? undefined) : undefined;
}

/** A boolean flag: true for `--link` and `--link=true`. */
export function flagBool(flags: readonly InstructionFlag[], name: string): boolean {
  const flag = flags.find((f) => f.name === name);
  return flag !== undefined && (flag.value === null || flag.value.toLowerCase() === "true");
}
