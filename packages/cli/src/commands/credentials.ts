import { LocalError } from "../errors";
import { readAll, readLine, readSecret, write } from "../output";
import type { Runtime } from "../runtime";

export interface CredentialFlags {
  username?: string;
  /** Given on the command line (docker warns about it). */
  password?: string;
  passwordStdin?: boolean;
}

/**
 * docker login's rules for where a username and password come from: the flags, standard
 * input (`--password-stdin`), or prompts on a terminal; with docker's messages when none fits.
 */
export async function readCredentials(rt: Runtime, opts: CredentialFlags): Promise<{ username: string; password: string }> {
  const { io } = rt;
  if (opts.password !== undefined && opts.passwordStdin) throw new LocalError("--password and --password-stdin are mutually exclusive");
  if (opts.passwordStdin && !opts.username) throw new LocalError("Must provide --username with --password-stdin");
  let password = opts.password;
  if (password !== undefined) {
    write(io.stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  } else if (opts.passwordStdin) {
    password = (await readAll(io.stdin)).replace(/\r?\n$/, "");
  }
  let username = opts.username?.trim();
  if (!username || password === undefined) {
    if (!io.stdinIsTTY) throw new LocalError("Cannot perform an interactive login from a non TTY device");
    if (!username) {
      write(io.stdout, "Username: ");
      username = (await readLine(io.stdin))?.trim();
      if (!username) throw new LocalError("Username is required");
    }
    password ??= await readSecret(io, "Password: ");
  }
  if (!password) throw new LocalError("Password is required");
  return { username, password };
}
