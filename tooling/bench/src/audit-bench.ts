/**
 * The audit log at scale: seeds AUDIT_EVENTS events (default 5,000,000; see audit-seed.ts), then
 * measures the server-side latency of a filtered page of 50 (the function the `audit.list`
 * procedure calls, on the server's database) for each filter, combined filters and deep cursor
 * pages. Target: p95 ≤ 200 ms. Each figure is 100 calls after 10 warm-up calls, the filter values
 * drawn at random from the seeded data (weighted like the data: busy people and repositories
 * come up more often).
 */
import { appendAuditEvent, createPrismaClient, listAuditEvents, verifyAuditChain, type ListAuditEventsOptions } from "@berth/db";
import pg from "pg";
import { auditTail, checkSeededTerms, LEGACY_REPOSITORIES, seedAuditEvents, seedModel, type SeedModel } from "./audit-seed";

export interface AuditBenchOptions {
  databaseUrl: string;
  events: number;
  /** Re-walk the whole chain afterwards (and time it). */
  verify: boolean;
}

type Filter = Omit<ListAuditEventsOptions, "limit">;

const CALLS = 100;
const WARMUP = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fmt = (n: number, d = 1) => n.toFixed(d);

export async function benchAudit(opts: AuditBenchOptions): Promise<void> {
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  // The seeded year starts after the server's own events (time order is chain order): it ends
  // in the future, which changes nothing for the figures.
  const tail = await auditTail(client);
  const model = seedModel(new Date(Math.max(Date.now(), tail.at.getTime() + 365 * 86_400_000 + 1000)));
  let seconds: number;
  let termCheck: { checked: number; different: number };
  try {
    let lastReport = performance.now();
    seconds = await seedAuditEvents(client, model, opts.events, (done) => {
      if (performance.now() - lastReport > 60_000) {
        lastReport = performance.now();
        console.log(`  seeded ${done.toLocaleString("en")} events…`);
      }
    });
    termCheck = await checkSeededTerms(client, 2000);
  } finally {
    await client.end();
  }
  console.log(
    `\n## audit log (${opts.events.toLocaleString("en")} events; ${CALLS} calls per filter after ${WARMUP} warm-up calls, listAuditEvents in-process)`,
  );
  console.log(
    `seeded in ${fmt(seconds, 0)} s (${fmt(opts.events / seconds, 0)} events/s; triggers bypassed: hashes and search terms computed in TypeScript, see audit-seed.ts; ` +
      `search terms of ${termCheck.checked} random events checked against the trigger's SQL function: ${termCheck.different} differ)`,
  );
  await measureAudit(opts, model);
}

/** The figures, on a seeded log (see seedModel). */
export async function measureAudit(opts: AuditBenchOptions, model: SeedModel): Promise<void> {
  const db = createPrismaClient(opts.databaseUrl);
  try {
    const sizes = await db.$queryRaw<{ name: string; mb: number }[]>`
      SELECT relname AS name, (pg_total_relation_size(oid) / 1048576)::int AS mb FROM pg_class
      WHERE relname IN ('audit_events', 'audit_search_postings', 'audit_search_terms') ORDER BY relname`;
    console.log(`sizes: ${sizes.map((s) => `${s.name} ${s.mb} MiB`).join(", ")}`);

    let seed = 1;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    // Values drawn from random events, so each is picked about as often as it occurs.
    const sample = await db.$queryRaw<{ actor_name: string; action: string; targets: { ref: string; digestAfter: string | null }[] }[]>`
      SELECT actor_name, action, targets FROM audit_events TABLESAMPLE SYSTEM (1) WHERE action LIKE 'image.%' LIMIT 2000`;
    const refOf = () => pick(sample).targets[0]!.ref;
    const repoOf = (ref: string) => ref.slice(0, ref.lastIndexOf(":"));
    const dayMs = 86_400_000;
    const span = model.end.getTime() - model.start.getTime();
    const randomDay = () => new Date(model.start.getTime() + Math.floor(random() * (span - 7 * dayMs)));
    const legacy = model.repositories.slice(-LEGACY_REPOSITORIES).map((r) => r.name);
    const midId = () => String(Math.floor(opts.events * (0.2 + random() * 0.7)));

    const scenarios: [string, () => Filter][] = [
      ["newest page, no filter", () => ({})],
      ["person", () => ({ person: pick(sample).actor_name })],
      ["person (quiet: user60)", () => ({ person: "user60" })],
      ["action (exact)", () => ({ action: pick(sample).action })],
      ["action prefix image.*", () => ({ action: "image.*" })],
      ["action prefix user.* (rare)", () => ({ action: "user.*" })],
      ["namespace", () => ({ namespace: repoOf(refOf()).split("/").at(-2)! })],
      ["repository", () => ({ repository: repoOf(refOf()) })],
      ["tag (name, any repository)", () => ({ tag: refOf().split(":").at(-1)! })],
      ["tag (repository:tag)", () => ({ tag: refOf() })],
      ["digest (full)", () => ({ digest: pick(model.digests) })],
      ["digest (12-hex prefix)", () => ({ digest: pick(model.digests).slice(7, 19) })],
      ["result denied", () => ({ result: "denied" })],
      [
        "time range (one day)",
        () => {
          const from = randomDay();
          return { from, to: new Date(from.getTime() + dayMs) };
        },
      ],
      ["person + namespace", () => ({ person: pick(sample).actor_name, namespace: repoOf(refOf()).split("/").at(-2)! })],
      ["image.* + repository + denied", () => ({ action: "image.*", repository: repoOf(refOf()), result: "denied" })],
      [
        "namespace + action + one week",
        () => {
          const from = randomDay();
          return { namespace: repoOf(refOf()).split("/").at(-2)!, action: "image.tag", from, to: new Date(from.getTime() + 7 * dayMs) };
        },
      ],
      ["person + result failed + action", () => ({ person: pick(sample).actor_name, result: "failed", action: "image.remove" })],
      ["repository busy a year ago only (clustered in time)", () => ({ repository: pick(legacy) })],
      ["person + repository busy a year ago only", () => ({ person: pick(sample).actor_name, repository: pick(legacy) })],
      ["two namespaces (never together: empty)", () => ({ namespace: "library", repository: "docker.io/team-1/app-1" })],
      [
        "auth.* + namespace (nothing in common: budgeted, short pages)",
        () => ({ action: "auth.*", namespace: repoOf(refOf()).split("/").at(-2)! }),
      ],
      ["deep cursor, no filter", () => ({ cursor: midId() })],
      ["deep cursor, namespace", () => ({ cursor: midId(), namespace: repoOf(refOf()).split("/").at(-2)! })],
      ["deep cursor, person + image.*", () => ({ cursor: midId(), person: pick(sample).actor_name, action: "image.*" })],
    ];

    let worst = 0;
    for (const [name, filter] of scenarios) {
      const samples: number[] = [];
      let rows = 0;
      for (let i = 0; i < WARMUP + CALLS; i++) {
        const f = filter();
        const t0 = performance.now();
        const page = await listAuditEvents(db, { ...f, limit: 50 });
        const ms = performance.now() - t0;
        if (i >= WARMUP) {
          samples.push(ms);
          rows += page.events.length;
        }
      }
      samples.sort((a, b) => a - b);
      worst = Math.max(worst, percentile(samples, 95));
      console.log(
        `${name}: p50 ${fmt(percentile(samples, 50))} ms, p95 ${fmt(percentile(samples, 95))} ms, max ${fmt(samples.at(-1)!)} ms (avg ${fmt(rows / CALLS, 0)} rows/page)`,
      );
    }
    console.log(`worst p95 over all filters: ${fmt(worst)} ms (target ≤ 200 ms)`);

    // Appends as the server makes them, through both triggers, on the full log.
    const appends: number[] = [];
    for (let i = 0; i < 200; i++) {
      const repo = pick(model.repositories);
      const t0 = performance.now();
      await appendAuditEvent(db, {
        actorName: pick(model.people),
        action: "image.tag",
        interface: "cli",
        result: "ok",
        targets: [{ ref: `${repo.name}:${pick(repo.tags)}`, digestBefore: pick(repo.digests), digestAfter: pick(repo.digests) }],
        details: { source: pick(repo.digests) },
      });
      appends.push(performance.now() - t0);
    }
    appends.sort((a, b) => a - b);
    console.log(
      `appendAuditEvent (chain and search-term triggers): p50 ${fmt(percentile(appends, 50))} ms, p95 ${fmt(percentile(appends, 95))} ms`,
    );

    if (opts.verify) {
      const t0 = performance.now();
      const result = await verifyAuditChain(db);
      console.log(`verifyAuditChain over the whole log: ${JSON.stringify(result)} in ${fmt((performance.now() - t0) / 1000)} s`);
    }
  } finally {
    await db.$disconnect();
  }
}
