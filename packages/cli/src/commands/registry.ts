import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { LocalError } from "../errors";
import { humanSize, renderTable, timeAgo } from "../format";
import { println, write } from "../output";
import type { RegistryView } from "../registries-api";
import { userPath, type Runtime } from "../runtime";
import { readCredentials } from "./credentials";
import { act } from "./shared";

/**
 * `berth registry …`: the team's shared registry settings on the server (mirrors, insecure and
 * mirrors-only registries, CA bundles, credentials) that every pull uses. Changing them needs an admin.
 */

export interface SetOptions {
  mirror?: string[];
  clearMirrors?: boolean;
  insecure?: boolean;
  mirrorsOnly?: boolean;
  caFile?: string;
  ca?: boolean;
}

export function renderRegistries(registries: RegistryView[], now: Date): string {
  const rows = registries.flatMap((r) => {
    const login = r.username ? `${r.username} (set by ${r.credentialsSetBy ?? "?"} ${timeAgo(r.credentialsSetAt, now)})` : "-";
    const first = [r.domain, r.insecure ? "yes" : "no", r.mirrorsOnly ? "yes" : "no", r.ca ? "custom" : "-", login];
    if (r.mirrors.length === 0) return [[...first, "-", "", "", ""]];
    return r.mirrors.map((m, i) => [
      ...(i === 0 ? first : first.map(() => "")),
      m.url,
      m.healthy ? "healthy" : "unhealthy",
      m.latencyMs === null ? "-" : `${m.latencyMs}ms`,
      humanSize(m.bytesServed),
    ]);
  });
  return renderTable([["REGISTRY", "INSECURE", "MIRRORS ONLY", "CA", "LOGIN", "MIRRORS", "HEALTH", "LATENCY", "SERVED"], ...rows]);
}

export async function runRegistryLs(rt: Runtime, opts: { format: "table" | "json" }): Promise<void> {
  const registries = await (await rt.api()).registries.list();
  if (opts.format === "json") write(rt.io.stdout, `${JSON.stringify(registries, null, 2)}\n`);
  else write(rt.io.stdout, renderRegistries(registries, rt.now()));
}

/** Changes only what the flags name; the rest of the registry's settings stay as they are. */
export async function runRegistrySet(rt: Runtime, host: string, opts: SetOptions): Promise<void> {
  if (opts.mirror?.length && opts.clearMirrors) throw new LocalError("--mirror and --clear-mirrors are mutually exclusive");
  if (opts.caFile !== undefined && opts.ca === false) throw new LocalError("--ca-file and --no-ca are mutually exclusive");
  let ca: string | null | undefined;
  if (opts.caFile !== undefined) {
    try {
      ca = await readFile(userPath(rt, opts.caFile), "utf8");
    } catch (err) {
      throw new LocalError(`cannot read --ca-file ${opts.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else if (opts.ca === false) {
    ca = null;
  }
  const api = await rt.api();
  const domain = host.trim().toLowerCase();
  const current = (await api.registries.list()).find((r) => r.domain === domain);
  const saved = await api.registries.save({
    domain,
    mirrors: opts.clearMirrors ? [] : (opts.mirror ?? current?.mirrors.map((m) => m.url) ?? []),
    insecure: opts.insecure ?? current?.insecure ?? false,
    mirrorsOnly: opts.mirrorsOnly ?? current?.mirrorsOnly ?? false,
    ca: ca !== undefined ? ca : (current?.ca ?? null),
  });
  println(rt.io.stdout, saved.domain);
  for (const m of saved.mirrors) println(rt.io.stdout, `  mirror ${m.position + 1}: ${m.url}`);
  if (saved.insecure) println(rt.io.stdout, "  insecure: yes");
  if (saved.mirrorsOnly) println(rt.io.stdout, "  mirrors only: yes (no fall-back to the registry itself)");
  if (saved.ca) println(rt.io.stdout, "  ca: custom");
}

export async function runRegistryRm(rt: Runtime, host: string): Promise<void> {
  await (await rt.api()).registries.remove(host);
  println(rt.io.stdout, host);
}

export interface RegistryLoginOptions {
  username?: string;
  passwordStdin?: boolean;
}

/** Like `docker login`, for the whole team: the password goes to the server, sealed there. */
export async function runRegistryLogin(rt: Runtime, host: string, opts: RegistryLoginOptions): Promise<void> {
  const { io } = rt;
  const { username, password } = await readCredentials(rt, opts);
  const result = await (await rt.api()).registries.login({ domain: host, username, password });
  if (result.warning) write(io.stderr, `WARNING! ${result.warning}\n`);
  println(io.stdout, "Login Succeeded");
}

export async function runRegistryLogout(rt: Runtime, host: string): Promise<void> {
  const removed = await (await rt.api()).registries.logout(host);
  println(rt.io.stdout, removed ? `Removing login credentials for ${host}` : `Not logged in to ${host}`);
}

export async function runRegistryTest(rt: Runtime, host: string, url: string): Promise<number> {
  const r = await (await rt.api()).registries.testMirror({ domain: host, url });
  if (r.ok) {
    println(
      rt.io.stdout,
      `${r.url}: OK (${r.latencyMs}ms${r.authScheme && r.authScheme !== "none" ? `, asks for ${r.authScheme} auth` : ""})`,
    );
    return 0;
  }
  write(rt.io.stderr, `${r.url}: ${r.error ?? "failed"}\n`);
  return 1;
}

/** daemon.json on stdout (to redirect into a file); what it cannot say on stderr, or hosts.toml with --containerd. */
export async function runDaemonJson(rt: Runtime, opts: { containerd?: boolean }): Promise<void> {
  const config = await (await rt.api()).registries.daemonJson();
  if (opts.containerd) {
    const files = config.hostsToml.map((h) => `# ${h.path}\n${h.text}`);
    write(rt.io.stdout, files.length ? files.join("\n") : "");
    if (!files.length) write(rt.io.stderr, "No registry needs a hosts.toml.\n");
    return;
  }
  write(rt.io.stdout, config.daemonJson);
  for (const note of config.notes) write(rt.io.stderr, `# ${note}\n`);
  if (config.hostsToml.length) write(rt.io.stderr, "# 'berth registry daemon-json --containerd' prints the hosts.toml files.\n");
}

export function registerRegistry(parent: Command, rt: Runtime): Command {
  const registry = parent
    .command("registry")
    .description("Manage the team's registry mirrors, insecure registries and credentials")
    .usage("COMMAND");

  registry
    .command("ls")
    .alias("list")
    .description("List registries with their mirrors and mirror health")
    .usage("[OPTIONS]")
    .addOption(new Option("--format <format>", "Output format").choices(["table", "json"]).default("table"))
    .action(act(rt, (opts: { format: "table" | "json" }) => runRegistryLs(rt, opts)));

  registry
    .command("set")
    .description("Set a registry's mirrors (in order), insecure and mirrors-only flags and CA bundle (admin)")
    .usage("HOST [OPTIONS]")
    .argument("<HOST>")
    .option("--mirror <url>", "Mirror URL, tried in the order given (repeatable; replaces the list)", (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option("--clear-mirrors", "Remove every mirror")
    .option("--insecure", "Allow plain HTTP and unverified TLS for this registry")
    .option("--no-insecure", "Require verified HTTPS")
    .option("--mirrors-only", "Pull only through the mirrors, never from the registry itself (air-gapped)")
    .option("--no-mirrors-only", "Fall back to the registry itself when the mirrors fail")
    .option("--ca-file <file>", "PEM bundle of extra CAs to trust for this registry")
    .option("--no-ca", "Remove the custom CA bundle")
    .action(act(rt, (host: string, opts: SetOptions) => runRegistrySet(rt, host, opts)));

  registry
    .command("rm")
    .alias("remove")
    .description("Remove a registry's settings and credentials (admin)")
    .usage("HOST")
    .argument("<HOST>")
    .action(act(rt, (host: string) => runRegistryRm(rt, host)));

  registry
    .command("login")
    .description("Store the team's credentials for a registry on the server (admin)")
    .usage("HOST [OPTIONS]")
    .argument("<HOST>")
    .option("-u, --username <string>", "Username")
    .option("--password-stdin", "Take the password from stdin")
    .action(act(rt, (host: string, opts: RegistryLoginOptions) => runRegistryLogin(rt, host, opts)));

  registry
    .command("logout")
    .description("Forget the team's credentials for a registry (admin)")
    .usage("HOST")
    .argument("<HOST>")
    .action(act(rt, (host: string) => runRegistryLogout(rt, host)));

  registry
    .command("test")
    .description("Ping a mirror's /v2/ and record its health")
    .usage("HOST MIRROR_URL")
    .argument("<HOST>")
    .argument("<MIRROR_URL>")
    .action(act(rt, (host: string, url: string) => runRegistryTest(rt, host, url)));

  registry
    .command("daemon-json")
    .description("Print the daemon.json for this configuration (use it on your machine)")
    .usage("[OPTIONS]")
    .option("--containerd", "Print containerd hosts.toml files instead (they can express every registry's mirrors)")
    .action(act(rt, (opts: { containerd?: boolean }) => runDaemonJson(rt, opts)));

  return registry;
}
