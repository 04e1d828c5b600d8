/**
 * `berth audit export|archive|verify`: the audit log as files. Exports and archives stream from
 * the server to `-o FILE` (via FILE.partial, renamed when complete) or stdout; `verify` re-walks
 * the chain on the server, or checks an archive file here, offline.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Option, type Command } from "commander";
import { verifyAuditArchive } from "@berth/api/audit-archive";
import { streamError, type BerthApi } from "../api";
import { LocalError, PlainError } from "../errors";
import { println } from "../output";
import { userPath, type Runtime } from "../runtime";
import { AUDIT_FILTER_HELP, auditQuery, timeArg } from "./audit-query";
import { act, filterOption, type Filters } from "./shared";

/** Streams `body` to the file (whole or not at all) or stdout; returns the sha256 of what was written. */
async function writeOut(rt: Runtime, api: BerthApi, body: Readable, output: string | undefined): Promise<string> {
  const hash = createHash("sha256");
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  if (!output) {
    try {
      await pipeline(body, tap, rt.io.stdout, { end: false });
    } catch (err) {
      throw streamError(err, api.url);
    }
    return hash.digest("hex");
  }
  const file = userPath(rt, output);
  const partial = `${file}.partial`;
  try {
    await pipeline(body, tap, createWriteStream(partial, { mode: 0o644 }));
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR") {
      throw new LocalError(`invalid output path: ${(err as Error).message}`);
    }
    throw streamError(err, api.url);
  }
  return hash.digest("hex");
}

interface ExportOptions {
  format: "csv" | "jsonl";
  filter: Filters;
  since?: string;
  until?: string;
  output?: string;
}

export async function runAuditExport(rt: Runtime, opts: ExportOptions): Promise<void> {
  const filter = auditQuery(opts, rt.now());
  const api = await rt.api();
  await writeOut(rt, api, await api.auditExport(filter, opts.format), opts.output);
}

interface ArchiveOptions {
  from?: string;
  to?: string;
  output: string;
}

export async function runAuditArchive(rt: Runtime, opts: ArchiveOptions): Promise<void> {
  const range = {
    ...(opts.from !== undefined ? { from: timeArg("--from", opts.from, rt.now()) } : {}),
    ...(opts.to !== undefined ? { to: timeArg("--to", opts.to, rt.now()) } : {}),
  };
  const api = await rt.api();
  const sha256 = await writeOut(rt, api, await api.auditArchive(range), opts.output);
  // The server records the archive before the download ends: find that record.
  const { events } = await api.audit({ action: "audit.archive", result: "ok", limit: 20 });
  const recorded = events.find((e) => e.details.sha256 === sha256);
  if (!recorded) {
    throw new PlainError(`Error: the server sent an archive (sha256 ${sha256}) but no audit.archive event records it`, 1);
  }
  const d = recorded.details as { count?: number; firstId?: number; lastId?: number };
  println(rt.io.stdout, `Archived ${d.count} events (ids ${d.firstId}–${d.lastId}) to ${opts.output}`);
  println(rt.io.stdout, `sha256: ${sha256}`);
  println(rt.io.stdout, `Recorded as audit event ${recorded.id} (audit.archive by ${recorded.actorName})`);
}

async function* fileLines(path: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Exit 0 when intact; 1 with the first broken link on stderr. */
export async function runAuditVerify(rt: Runtime, opts: { archive?: string }): Promise<number> {
  if (opts.archive !== undefined) {
    const path = userPath(rt, opts.archive);
    let result: Awaited<ReturnType<typeof verifyAuditArchive>>;
    try {
      result = await verifyAuditArchive(fileLines(path));
    } catch (err) {
      throw new LocalError(`cannot read ${opts.archive}: ${(err as Error).message}`);
    }
    if (!result.ok) {
      const at = result.id !== null ? ` (event ${result.id})` : "";
      println(rt.io.stderr, `archive broken at line ${result.line}${at}: ${result.reason}`);
      println(rt.io.stderr, `${result.count} events before it verified`);
      return 1;
    }
    println(rt.io.stdout, `archive OK: ${result.count} events (ids ${result.firstId}–${result.lastId})`);
    println(rt.io.stdout, `first prev_hash: ${result.firstPrevHash ?? "none (the start of the log)"}`);
    println(rt.io.stdout, `last hash: ${result.lastHash}`);
    println(rt.io.stdout, `file sha256: ${await sha256Of(path)} (compare with the audit.archive event that recorded it)`);
    return 0;
  }
  const api = await rt.api();
  const result = await api.auditVerify();
  if (!result.ok) {
    println(rt.io.stderr, `audit chain broken at event ${result.brokenAtId}: ${result.reason}`);
    return 1;
  }
  println(rt.io.stdout, `audit chain OK: ${result.count} events`);
  return 0;
}

export function registerAuditFiles(audit: Command, rt: Runtime): void {
  const exportCmd = audit
    .command("export")
    .description("Export the (filtered) audit log as CSV or JSON Lines, newest first")
    .usage("[OPTIONS]")
    .addOption(new Option("--format <format>", "Output format").choices(["csv", "jsonl"]).default("csv"))
    .option("--since <time>", "Only events at or after this time (RFC 3339, Unix timestamp, or duration like 10m)")
    .option("--until <time>", "Only events before this time (RFC 3339, Unix timestamp, or duration like 10m)")
    .option("-o, --output <file>", "Write to a file, instead of STDOUT");
  filterOption(exportCmd, AUDIT_FILTER_HELP);
  exportCmd.action(act(rt, (opts: ExportOptions) => runAuditExport(rt, opts)));

  audit
    .command("archive")
    .description("Export-and-archive a time range (admin): a verifiable JSON Lines file, recorded in the audit log")
    .usage("[--from TIME] [--to TIME] -o FILE")
    .option("--from <time>", "First event time, inclusive (RFC 3339, Unix timestamp, or duration like 30d); default: the first event")
    .option("--to <time>", "Last event time, exclusive; default: now")
    .requiredOption("-o, --output <file>", "The archive file to write")
    .action(act(rt, (opts: ArchiveOptions) => runAuditArchive(rt, opts)));

  audit
    .command("verify")
    .description("Re-walk the audit hash chain on the server (admin), or verify an archive file offline")
    .usage("[--archive FILE]")
    .option("--archive <file>", "Verify this archive file instead, without the server")
    .action(act(rt, (opts: { archive?: string }) => runAuditVerify(rt, opts)));
}
