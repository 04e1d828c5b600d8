import { Option, type Command } from "commander";
import { LocalError, renderError } from "../errors";
import { humanDuration, renderTable, timeAgo } from "../format";
import { println, write } from "../output";
import type { TokenRow } from "../people-api";
import type { Runtime } from "../runtime";
import { act } from "./shared";

/**
 * `berth token …`: personal tokens (act with your own permissions) and robot tokens (a name,
 * namespaces and actions; never more than you may do). The secret is printed once.
 */

const ROBOT_ACTIONS = ["read", "pull", "push", "tag", "remove", "load"] as const;
type RobotAction = (typeof ROBOT_ACTIONS)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The first group of the UUID: enough to tell tokens apart, accepted by `token revoke`. */
const shortId = (id: string) => id.split("-")[0] ?? id;

function expiry(date: Date | null, now: Date): string {
  if (!date) return "never";
  const ms = date.getTime() - now.getTime();
  return ms <= 0 ? `${timeAgo(date, now)}` : `in ${humanDuration(ms)}`;
}

function scope(t: TokenRow): string {
  return t.kind === "robot" ? `${t.namespaces.join(",")}: ${t.actions.join(",")}` : "-";
}

/** The server writes a token's last use once a minute: a time within it is not exact. */
function lastUse(at: Date | null, now: Date): string {
  if (!at) return "never";
  return now.getTime() - at.getTime() < 60_000 ? "within a minute" : timeAgo(at, now);
}

export function renderTokens(tokens: TokenRow[], now: Date, withOwner: boolean): string {
  const header = ["ID", "NAME", "KIND", ...(withOwner ? ["OWNER"] : []), "SCOPE", "CREATED", "LAST USED", "EXPIRES", "STATUS"];
  return renderTable([
    header,
    ...tokens.map((t) => [
      shortId(t.id),
      t.name,
      t.kind,
      ...(withOwner ? [t.owner] : []),
      scope(t),
      timeAgo(t.createdAt, now),
      lastUse(t.lastUsedAt, now),
      expiry(t.expiresAt, now),
      t.state,
    ]),
  ]);
}

export async function runTokenLs(rt: Runtime, opts: { all?: boolean; format: "table" | "json" }): Promise<void> {
  const tokens = await (await rt.api()).people.tokens(Boolean(opts.all));
  if (opts.format === "json") write(rt.io.stdout, `${JSON.stringify(tokens, null, 2)}\n`);
  else write(rt.io.stdout, renderTokens(tokens, rt.now(), Boolean(opts.all)));
}

export interface CreateOptions {
  robot?: boolean;
  namespace?: string[];
  action?: string[];
  expiresInDays?: string;
}

/** The secret alone on stdout (to pipe into a secret store); warnings on stderr. */
export async function runTokenCreate(rt: Runtime, name: string, opts: CreateOptions): Promise<void> {
  const days = opts.expiresInDays === undefined ? undefined : Number(opts.expiresInDays);
  if (days !== undefined && !Number.isInteger(days))
    throw new LocalError(`--expires-in-days: "${opts.expiresInDays}" is not a whole number`);
  const expires = days !== undefined ? { expiresInDays: days } : {};
  const api = await rt.api();
  if (!opts.robot) {
    if (opts.namespace?.length || opts.action?.length) throw new LocalError("--namespace and --action are for robot tokens: add --robot");
    println(rt.io.stdout, (await api.people.createToken({ name, ...expires })).token);
    return;
  }
  if (!opts.namespace?.length) throw new LocalError('a robot token needs --namespace (repeatable; "*" for every namespace)');
  if (!opts.action?.length) throw new LocalError(`a robot token needs --action (repeatable: ${ROBOT_ACTIONS.join(", ")})`);
  for (const a of opts.action) {
    if (!(ROBOT_ACTIONS as readonly string[]).includes(a)) {
      throw new LocalError(`"${a}" is not an action a robot token can have (one of ${ROBOT_ACTIONS.join(", ")})`);
    }
  }
  const robot = await api.people.createRobot({ name, namespaces: opts.namespace, actions: opts.action as RobotAction[], ...expires });
  println(rt.io.stdout, robot.token);
  for (const warning of robot.warnings) write(rt.io.stderr, `WARNING! ${warning}\n`);
}

/** By ID (or its first group) or by name among your live tokens. */
export async function runTokenRevoke(rt: Runtime, keys: string[]): Promise<number> {
  const api = await rt.api();
  const tokens = await api.people.tokens(false);
  let failed = 0;
  for (const key of keys) {
    const byId = tokens.filter((t) => t.id === key || shortId(t.id) === key);
    const matches = byId.length ? byId : tokens.filter((t) => t.name === key && t.state === "active");
    try {
      if (matches.length > 1) throw new LocalError(`${matches.length} tokens are named ${key}: give the ID (berth token ls)`);
      // A full ID that is not yours: an admin revoking someone else's token (the server decides).
      const id = matches[0]?.id ?? (UUID.test(key) ? key : undefined);
      if (!id) throw new LocalError(`no such token: ${key}`);
      await api.people.revokeToken(id);
      println(rt.io.stdout, key);
    } catch (err) {
      failed++;
      write(rt.io.stderr, `${renderError(err).text}\n`);
    }
  }
  return failed ? 1 : 0;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(",").filter(Boolean)];

export function registerToken(parent: Command, rt: Runtime): Command {
  const token = parent.command("token").description("Manage your personal and robot API tokens").usage("COMMAND");

  token
    .command("ls")
    .alias("list")
    .description("List your tokens with their scope, last use and expiry (never the secrets)")
    .usage("[OPTIONS]")
    .option("-a, --all", "Everybody's tokens (admin)")
    .addOption(new Option("--format <format>", "Output format").choices(["table", "json"]).default("table"))
    .action(act(rt, (opts: { all?: boolean; format: "table" | "json" }) => runTokenLs(rt, opts)));

  token
    .command("create")
    .description("Create a token and print its secret once")
    .usage("NAME [OPTIONS]")
    .argument("<NAME>")
    .option("--robot", "A robot token, limited to --namespace and --action (and to what you may do)")
    .option("--namespace <ns>", 'Namespace a robot token may act in (repeatable or comma-separated; "*" for all)', collect)
    .option("--action <action>", `What a robot token may do (repeatable or comma-separated: ${ROBOT_ACTIONS.join(", ")})`, collect)
    .option("--expires-in-days <days>", "Days until the token stops working (default: never)")
    .action(act(rt, (name: string, opts: CreateOptions) => runTokenCreate(rt, name, opts)));

  token
    .command("revoke")
    .alias("rm")
    .description("Revoke tokens by ID or name; they stop working at once")
    .usage("TOKEN [TOKEN...]")
    .argument("<TOKEN...>")
    .action(act(rt, (keys: string[]) => runTokenRevoke(rt, keys)));

  return token;
}
