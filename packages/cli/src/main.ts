import { EnvError, readEnv } from "./env";
import { processIo } from "./output";
import { run } from "./program";
import { createRuntime } from "./runtime";

async function main(): Promise<number> {
  let env;
  try {
    env = readEnv();
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`Error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const rt = createRuntime(processIo(env.initCwd ?? process.cwd()), env);
  return run(process.argv.slice(2), rt);
}

void main()
  .catch((err: unknown) => {
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  })
  .then((code) => {
    // Exit once stdout is flushed; idle keep-alive sockets or stdin must not hold the process.
    process.stdout.write("", () => process.exit(code));
  });
