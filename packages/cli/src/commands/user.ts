import { Option, type Command } from "commander";
import { LocalError, renderError } from "../errors";
import { humanDuration, renderTable, timeAgo } from "../format";
import { println, readAll, write } from "../output";
import type { GrantRole, Role, UserRow } from "../people-api";
import type { Runtime } from "../runtime";
import { act } from "./shared";

/**
 * `berth user …`: the team's people (admin). Roles are defaults for every namespace; grants
 * raise a person's role in one namespace. The server decides, audits, and says why not.
 */

const ROLES = ["viewer", "developer", "maintainer", "admin"] as const;
const GRANT_ROLES = ["developer", "maintainer"] as const;

function choice<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new LocalError(`"${value}" is not a ${what} (one of ${allowed.join(", ")})`);
}

export function renderUsers(users: UserRow[], now: Date): string {
  return renderTable([
    ["USERNAME", "ROLE", "GRANTS", "STATUS", "LAST ACTIVE", "CREATED"],
    ...users.map((u) => [
      u.username,
      u.role,
      u.grants.map((g) => `${g.namespace}=${g.role}`).join(",") || "-",
      u.disabledAt ? "disabled" : "active",
      u.lastActiveAt ? timeAgo(u.lastActiveAt, now) : "never",
      timeAgo(u.createdAt, now),
    ]),
  ]);
}

export async function runUserLs(rt: Runtime, opts: { format: "table" | "json" }): Promise<void> {
  const users = await (await rt.api()).people.users();
  if (opts.format === "json") write(rt.io.stdout, `${JSON.stringify(users, null, 2)}\n`);
  else write(rt.io.stdout, renderUsers(users, rt.now()));
}

export interface InviteOptions {
  role: string;
  username?: string;
  email?: string;
  expiresInDays?: string;
}

/** The link on stdout (to pass on); what it does on stderr. */
export async function runUserInvite(rt: Runtime, opts: InviteOptions): Promise<void> {
  const role = choice(opts.role, ROLES, "role");
  const days = opts.expiresInDays === undefined ? undefined : Number(opts.expiresInDays);
  if (days !== undefined && !Number.isInteger(days))
    throw new LocalError(`--expires-in-days: "${opts.expiresInDays}" is not a whole number`);
  const api = await rt.api();
  const invite = await api.people.invite({
    role,
    ...(opts.username ? { username: opts.username } : {}),
    ...(opts.email ? { email: opts.email } : {}),
    ...(days !== undefined ? { expiresInDays: days } : {}),
  });
  println(rt.io.stdout, `${api.url}${invite.path}`);
  const who = invite.username ? ` for ${invite.username}` : "";
  write(
    rt.io.stderr,
    `Invitation${who} as ${invite.role}: the link works once and expires in ${humanDuration(invite.expiresAt.getTime() - rt.now().getTime())}.\n`,
  );
}

export async function runUserDisable(rt: Runtime, usernames: string[], enable: boolean): Promise<number> {
  const api = await rt.api();
  let failed = 0;
  // Like `docker rm a b`: each name is tried, failures reported, exit 1 if any failed.
  for (const username of usernames) {
    try {
      await (enable ? api.people.enable(username) : api.people.disable(username));
      println(rt.io.stdout, username);
    } catch (err) {
      failed++;
      write(rt.io.stderr, `${renderError(err).text}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function runUserResetPassword(rt: Runtime, username: string, opts: { passwordStdin?: boolean }): Promise<void> {
  const password = opts.passwordStdin ? (await readAll(rt.io.stdin)).replace(/\r?\n$/, "") : undefined;
  if (opts.passwordStdin && !password) throw new LocalError("Password is required");
  const reset = await (await rt.api()).people.resetPassword({ username, ...(password ? { password } : {}) });
  if (reset.temporaryPassword) {
    println(rt.io.stdout, reset.temporaryPassword);
    write(rt.io.stderr, `Temporary password for ${username} (shown once); their sessions ended. Ask them to change it.\n`);
  } else {
    write(rt.io.stderr, `Password of ${username} set; their sessions ended.\n`);
  }
}

export async function runUserRole(rt: Runtime, username: string, role: string): Promise<void> {
  const changed = await (await rt.api()).people.setRole({ username, role: choice<Role>(role, ROLES, "role") });
  println(rt.io.stdout, `${changed.username}: ${changed.previousRole} -> ${changed.role}`);
}

export async function runUserGrant(rt: Runtime, username: string, namespace: string, role: string): Promise<void> {
  const grant = await (
    await rt.api()
  ).people.setGrant({ username, namespace, role: choice<GrantRole>(role, GRANT_ROLES, "role a grant can give") });
  println(
    rt.io.stdout,
    `${grant.username}: ${grant.role} in ${grant.namespace}${grant.previousRole ? ` (was ${grant.previousRole})` : ""}`,
  );
}

export async function runUserRevokeGrant(rt: Runtime, username: string, namespace: string): Promise<void> {
  await (await rt.api()).people.removeGrant({ username, namespace });
  println(rt.io.stdout, `${username}: no grant in ${namespace}`);
}

export function registerUser(parent: Command, rt: Runtime): Command {
  const user = parent.command("user").description("Manage the team's people, roles and namespace grants (admin)").usage("COMMAND");

  user
    .command("ls")
    .alias("list")
    .description("List users with their role, grants and last activity")
    .usage("[OPTIONS]")
    .addOption(new Option("--format <format>", "Output format").choices(["table", "json"]).default("table"))
    .action(act(rt, (opts: { format: "table" | "json" }) => runUserLs(rt, opts)));

  user
    .command("invite")
    .description("Create a one-time invitation link (printed once)")
    .usage("[OPTIONS]")
    .addOption(new Option("--role <role>", "Default role of the new user").choices([...ROLES]).default("viewer"))
    .option("--username <name>", "The only username the link may create")
    .option("--email <address>", "Who the link is for (informational)")
    .option("--expires-in-days <days>", "Days the link stays valid (default 7, at most 30)")
    .action(act(rt, (opts: InviteOptions) => runUserInvite(rt, opts)));

  user
    .command("disable")
    .description("Disable users: their sessions end, their tokens and robots stop working")
    .usage("USER [USER...]")
    .argument("<USER...>")
    .action(act(rt, (names: string[]) => runUserDisable(rt, names, false)));

  user
    .command("enable")
    .description("Enable disabled users again")
    .usage("USER [USER...]")
    .argument("<USER...>")
    .action(act(rt, (names: string[]) => runUserDisable(rt, names, true)));

  user
    .command("reset-password")
    .description("Set a temporary password (printed once) or the one on stdin; ends the user's sessions")
    .usage("USER [OPTIONS]")
    .argument("<USER>")
    .option("--password-stdin", "Take the new password from stdin")
    .action(act(rt, (name: string, opts: { passwordStdin?: boolean }) => runUserResetPassword(rt, name, opts)));

  user
    .command("role")
    .description(`Set a user's default role (${ROLES.join(", ")})`)
    .usage("USER ROLE")
    .argument("<USER>")
    .argument("<ROLE>")
    .action(act(rt, (name: string, role: string) => runUserRole(rt, name, role)));

  user
    .command("grant")
    .description(`Raise a user's role in one namespace (${GRANT_ROLES.join(", ")})`)
    .usage("USER NAMESPACE ROLE")
    .argument("<USER>")
    .argument("<NAMESPACE>")
    .argument("<ROLE>")
    .action(act(rt, (name: string, namespace: string, role: string) => runUserGrant(rt, name, namespace, role)));

  user
    .command("revoke-grant")
    .description("Remove a user's grant in a namespace")
    .usage("USER NAMESPACE")
    .argument("<USER>")
    .argument("<NAMESPACE>")
    .action(act(rt, (name: string, namespace: string) => runUserRevokeGrant(rt, name, namespace)));

  return user;
}
