import { Command, CommanderError } from "commander";
import { registerAudit } from "./commands/audit";
import { registerBuild } from "./commands/build";
import { registerDf } from "./commands/df";
import { registerHistory } from "./commands/history";
import { registerImages } from "./commands/images";
import { registerInspect } from "./commands/inspect";
import { registerLoad } from "./commands/load";
import { registerImport } from "./commands/import";
import { registerCommit } from "./commands/commit";
import { registerLogin, registerLogout } from "./commands/login";
import { registerPin } from "./commands/pin";
import { registerProtect } from "./commands/protect";
import { registerPrune } from "./commands/prune";
import { registerPublic } from "./commands/public";
import { registerPull } from "./commands/pull";
import { registerPush } from "./commands/push";
import { registerRegistry } from "./commands/registry";
import { registerRmi } from "./commands/rmi";
import { registerSave } from "./commands/save";
import { registerSearch } from "./commands/search";
import { commandPath, flagError, rewriteBoolFlags } from "./commands/shared";
import { registerTag } from "./commands/tag";
import { registerToken } from "./commands/token";
import { registerUser } from "./commands/user";
import { PlainError, renderError, UsageError } from "./errors";
import { write } from "./output";
import type { Runtime } from "./runtime";

export const VERSION = "0.0.0";

/** A commander failure together with the command it happened in. */
class ParseFailure extends Error {
  constructor(
    readonly command: Command,
    override readonly cause: CommanderError,
  ) {
    super(cause.message);
  }
}

export function buildProgram(rt: Runtime): Command {
  const program = new Command("berth")
    .description("Manage the team's Docker/OCI images on a Berth server")
    .usage("[OPTIONS] COMMAND")
    .version(VERSION, "-v, --version", "Print version information and quit")
    .helpCommand(false)
    // `berth system df -v` is verbose, `berth -v` the version: program options come before the command.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => write(rt.io.stdout, s),
      writeErr: (s) => write(rt.io.stderr, s),
      outputError: () => undefined, // rendered by `run`, docker-style
    })
    .exitOverride()
    .addHelpText(
      "after",
      "\nEnvironment:\n  BERTH_URL     server URL (default http://localhost:3000)\n  BERTH_TOKEN   API token (overrides 'berth login')\n  BERTH_CONFIG  stored login (default ~/.config/berth/config.json)\n",
    );

  registerLogin(program, rt);
  registerLogout(program, rt);
  registerImages(program, rt, "images");
  registerInspect(program, rt, "inspect", (ref) => `Error: No such object: ${ref}`);
  registerHistory(program, rt, "history");
  registerTag(program, rt, "tag");
  registerRmi(program, rt, "rmi");
  registerSave(program, rt, "save");
  registerLoad(program, rt, "load");
  registerImport(program, rt, "import");
  registerCommit(program, rt, "commit");
  registerPull(program, rt, "pull");
  registerPush(program, rt, "push");
  registerBuild(program, rt, "build");
  registerSearch(program, rt);

  const image = program.command("image").description("Manage images").usage("COMMAND");
  registerImages(image, rt, "ls", ["list"]);
  registerInspect(image, rt, "inspect", (ref) => `Error: No such image: ${ref}`);
  registerHistory(image, rt, "history");
  registerTag(image, rt, "tag");
  registerRmi(image, rt, "rm", ["remove"]);
  registerPrune(image, rt, "prune");
  registerSave(image, rt, "save");
  registerLoad(image, rt, "load");
  registerImport(image, rt, "import");
  registerBuild(image, rt, "build");
  registerPull(image, rt, "pull");
  registerPush(image, rt, "push");

  const system = program.command("system").description("Manage Berth").usage("COMMAND");
  registerDf(system, rt);

  registerAudit(program, rt);
  registerRegistry(program, rt);
  registerUser(program, rt);
  registerToken(program, rt);
  registerProtect(program, rt);
  registerPin(program, rt);
  registerPublic(program, rt);

  // Every command reports parse failures with itself attached, for docker-style messages.
  const visit = (cmd: Command) => {
    cmd.exitOverride((err) => {
      throw new ParseFailure(cmd, err);
    });
    cmd.commands.forEach(visit);
  };
  visit(program);
  return program;
}

const plural = (n: number) => (n === 1 ? "argument" : "arguments");

/** docker's `cli.ExactArgs` / `RequiresMinArgs` / `RequiresMaxArgs` messages (exit 1). */
function argumentsError(cmd: Command): PlainError {
  const args = cmd.registeredArguments;
  const min = args.filter((a) => a.required).length;
  const max = args.some((a) => a.variadic) ? Infinity : args.length;
  const path = commandPath(cmd);
  const rule =
    max === 0
      ? "accepts no arguments"
      : min === max
        ? `requires ${min} ${plural(min)}`
        : max === Infinity
          ? `requires at least ${min} ${plural(min)}`
          : min === 0
            ? `requires at most ${max} ${plural(max)}`
            : `requires at least ${min} and at most ${max} ${plural(max)}`;
  return new PlainError(`berth: '${path}' ${rule}\n\nUsage:  ${path} ${cmd.usage()}\n\nRun '${path} --help' for more information`, 1);
}

/** Commander's parse errors in docker's words and exit codes. */
export function translateParseFailure(failure: ParseFailure): Error | number {
  const { command: cmd, cause } = failure;
  const message = cause.message.replace(/^error: /, "");
  switch (cause.code) {
    case "commander.helpDisplayed":
    case "commander.version":
    case "commander.help":
      return cause.exitCode;
    case "commander.unknownOption": {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
      const hint = /\(Did you mean [^)]*\)/.exec(message)?.[0];
      const text = flag.startsWith("--") ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`;
      return flagError(cmd, hint ? `${text} ${hint}` : text);
    }
    case "commander.optionMissingArgument": {
      const flag = /'([^' ]+)[^']*'/.exec(message)?.[1] ?? message;
      return flagError(cmd, `flag needs an argument: ${flag.replace(/^-\w, /, "")}`);
    }
    case "commander.missingArgument":
    case "commander.excessArguments":
      return argumentsError(cmd);
    case "commander.unknownCommand": {
      const name = /'([^']+)'/.exec(message)?.[1] ?? "";
      const path = commandPath(cmd);
      return path === "berth"
        ? new PlainError(`berth: '${name}' is not a berth command.\nSee 'berth --help'`, 1)
        : new PlainError(
            `berth: unknown command: ${path} ${name}\n\nUsage:  ${path} ${cmd.usage()}\n\nRun '${path} --help' for more information`,
            1,
          );
    }
    default:
      return flagError(cmd, message);
  }
}

/** Parses `argv` (without `node berth`), runs the command and returns the exit code. */
export async function run(argv: string[], rt: Runtime): Promise<number> {
  const program = buildProgram(rt);
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(rewriteBoolFlags(argv, { "-H": "human", "--human": "human" }), { from: "user" });
    return rt.exitCode;
  } catch (err) {
    let failure: unknown = err;
    if (err instanceof ParseFailure) {
      const translated = translateParseFailure(err);
      if (typeof translated === "number") return translated;
      failure = translated;
    } else if (err instanceof CommanderError) {
      failure = new UsageError(err.message.replace(/^error: /, ""));
    }
    const { text, exitCode } = renderError(failure);
    if (text) write(rt.io.stderr, `${text}\n`);
    return exitCode;
  }
}
