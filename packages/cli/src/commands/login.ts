import type { Command } from "commander";
import { normalizeUrl, readLogin, removeLogin, resolveTarget, writeLogin } from "../config";
import { DEFAULT_URL } from "../env";
import { println, write } from "../output";
import type { Runtime } from "../runtime";
import { readCredentials } from "./credentials";
import { act } from "./shared";

export interface LoginOptions {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

/** Name of the personal token `login` creates, shown in the web UI's token list. */
export function tokenName(host: string): string {
  return `berth-cli@${host}`.slice(0, 100);
}

/** Which server `login`/`logout` talk to: the argument, else `BERTH_URL`, else the stored one. */
async function serverFor(rt: Runtime, server: string | undefined): Promise<string> {
  if (server) return normalizeUrl(server);
  if (rt.env.url) return normalizeUrl(rt.env.url);
  const stored = await readLogin(rt.env.configPath);
  return normalizeUrl(stored?.url ?? DEFAULT_URL);
}

export async function runLogin(rt: Runtime, server: string | undefined, opts: LoginOptions): Promise<void> {
  const { io } = rt;
  const { username, password } = await readCredentials(rt, opts);
  const url = await serverFor(rt, server);

  const api = rt.apiFor(url);
  const { token, tokenId } = await api.login({ username, password, name: tokenName(rt.hostname()) });
  const previous = await readLogin(rt.env.configPath);
  await writeLogin(rt.env.configPath, { url, token, ...(tokenId ? { tokenId } : {}), username });
  // The token this login replaces is of no further use: revoke it (best effort).
  if (previous?.tokenId && normalizeUrl(previous.url) === url && previous.tokenId !== tokenId) {
    await rt
      .apiFor(url, previous.token)
      .revokeToken(previous.tokenId)
      .catch(() => undefined);
  }
  if (rt.env.token) write(io.stderr, "WARNING! BERTH_TOKEN is set and overrides the stored login.\n");
  println(io.stdout, "Login Succeeded");
}

/** docker's `logout`: forgets the stored token (and revokes it on the server, best effort). */
export async function runLogout(rt: Runtime, server: string | undefined): Promise<void> {
  const url = await serverFor(rt, server);
  const stored = await readLogin(rt.env.configPath);
  if (!stored || normalizeUrl(stored.url) !== url) {
    println(rt.io.stdout, `Not logged in to ${url}`);
    return;
  }
  println(rt.io.stdout, `Removing login credentials for ${url}`);
  if (stored.tokenId) {
    const target = resolveTarget({ url }, stored);
    await rt
      .apiFor(target.url, target.token)
      .revokeToken(stored.tokenId)
      .catch(() => undefined);
  }
  await removeLogin(rt.env.configPath);
}

export function registerLogin(parent: Command, rt: Runtime): Command {
  return parent
    .command("login")
    .description("Log in to a Berth server")
    .usage("[OPTIONS] [SERVER]")
    .argument("[SERVER]")
    .option("-u, --username <string>", "Username")
    .option("-p, --password <string>", "Password")
    .option("--password-stdin", "Take the password from stdin")
    .action(act(rt, (server: string | undefined, opts: LoginOptions) => runLogin(rt, server, opts)));
}

export function registerLogout(parent: Command, rt: Runtime): Command {
  return parent
    .command("logout")
    .description("Log out from a Berth server")
    .usage("[SERVER]")
    .argument("[SERVER]")
    .action(act(rt, (server: string | undefined) => runLogout(rt, server)));
}
