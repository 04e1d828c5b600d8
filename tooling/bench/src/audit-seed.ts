/**
 * Seeds the audit log with a realistic spread of events, fast, with a valid hash chain.
 *
 * The chain trigger is bypassed (and said so in the bench output): it sets each event's time to
 * the clock, and a year of history cannot be made in minutes that way. Instead this computes what
 * the trigger would (ids in order, `at` non-decreasing, prev_hash, hash over the canonical form) in
 * TypeScript with @berth/db's mirror of audit_event_canonical, and the search terms with its twin of
 * the term trigger's function (eventTerms, checked equal to it by packages/db's tests and, on a
 * sample, by checkSeededTerms), both triggers disabled. verifyAuditChain then re-walks the whole
 * chain, which checks the canonical mirror against the database on every event; the bench times
 * single appends through both triggers separately.
 */
import { auditCanonical, auditHash, eventTerms, type AuditTerm } from "@berth/db";
import type pg from "pg";
import { mulberry32 } from "./prng";

export interface SeedModel {
  people: string[];
  namespaces: string[];
  repositories: { name: string; namespace: string; tags: string[]; digests: string[] }[];
  digests: string[];
  tags: string[];
  actions: string[];
  /** Time of the first and last event. */
  start: Date;
  end: Date;
}

/** Picks index i with weight 1/(i+1): a few busy people and repositories, a long tail of quiet ones. */
function zipf(random: () => number, n: number): () => number {
  const cumulative: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) cumulative.push((sum += 1 / (i + 1)));
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Repositories used only at the start of the log. */
export const LEGACY_REPOSITORIES = 10;

const hex64 = (random: () => number) => Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");

// Weighted actions, roughly what a team's registry sees: mostly pulls and tags.
const ACTIONS: [string, number][] = [
  ["image.pull", 30],
  ["image.tag", 20],
  ["image.push", 10],
  ["image.remove", 8],
  ["image.load", 5],
  ["image.save", 5],
  ["image.prune", 1],
  ["image.pin", 1],
  ["auth.sign-in", 12],
  ["auth.sign-out", 3],
  ["token.create", 1],
  ["token.revoke", 0.5],
  ["registry.save", 0.5],
  ["protection.rule.add", 0.5],
  ["user.role", 0.5],
];

export function seedModel(end: Date): SeedModel {
  const random = mulberry32(42);
  const namespaces = ["library", ...Array.from({ length: 39 }, (_, i) => `team-${i + 1}`)];
  const pickNamespace = zipf(random, namespaces.length);
  const repositories = Array.from({ length: 600 }, (_, i) => {
    const namespace = namespaces[i < namespaces.length ? i : pickNamespace()]!;
    const domain = i % 10 === 9 ? "localhost:5000" : "docker.io";
    const tags = ["latest", ...Array.from({ length: 20 }, (_, t) => `v1.${Math.floor(t / 5)}.${t % 5}`), `release-${i % 7}`];
    return {
      name: `${domain}/${namespace}/app-${i}`,
      namespace,
      tags,
      digests: Array.from({ length: 40 }, () => `sha256:${hex64(random)}`),
    };
  });
  return {
    people: [...Array.from({ length: 60 }, (_, i) => `user${i + 1}`), "robot:ci", "robot:deploy", "robot:nightly", "system", "admin"],
    namespaces,
    repositories,
    digests: repositories.flatMap((r) => r.digests),
    tags: [...new Set(repositories.flatMap((r) => r.tags))],
    actions: ACTIONS.map(([a]) => a),
    start: new Date(end.getTime() - 365 * 86_400_000),
    end,
  };
}

interface Row {
  id: bigint;
  at: Date;
  actor_id: string | null;
  actor_name: string;
  action: string;
  interface: string;
  result: string;
  error: string | null;
  ip: string | null;
  user_agent: string | null;
  targets: { ref: string; digestBefore: string | null; digestAfter: string | null }[];
  details: Record<string, string | boolean>;
}

function familiar(repository: string): string {
  return repository.startsWith("docker.io/") ? repository.slice("docker.io/".length) : repository;
}

/** Generates events `first`… in chain order. */
function* events(model: SeedModel, total: number, random: () => number, after: bigint): Generator<Row> {
  const pickPerson = zipf(random, model.people.length);
  const pickRepo = zipf(random, model.repositories.length);
  const weights = ACTIONS.map(([, w]) => w);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const pickAction = () => {
    let x = random() * weightSum;
    for (let i = 0; i < ACTIONS.length; i++) if ((x -= weights[i]!) < 0) return ACTIONS[i]![0];
    return ACTIONS[0]![0];
  };
  const span = model.end.getTime() - model.start.getTime();
  const interfaces = ["web", "cli", "api"];
  const agents = ["berth-cli", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", "curl/8.5.0"];
  const legacy = model.repositories.length - LEGACY_REPOSITORIES;
  for (let i = 0; i < total; i++) {
    const actor = model.people[pickPerson()]!;
    const action = pickAction();
    const roll = random();
    const result = roll < 0.03 ? "denied" : roll < 0.05 ? "failed" : "ok";
    // The last repositories were busy in the first weeks of the log only (matches clustered in time).
    const early = i < total * 0.05;
    let r = early && random() < 0.3 ? legacy + Math.floor(random() * LEGACY_REPOSITORIES) : pickRepo();
    if (!early && r >= legacy) r -= LEGACY_REPOSITORIES;
    const repo = model.repositories[r]!;
    const tag = repo.tags[Math.floor(random() * repo.tags.length)]!;
    const digest = repo.digests[Math.floor(random() * repo.digests.length)]!;
    const before = random() < 0.4 ? repo.digests[Math.floor(random() * repo.digests.length)]! : null;
    let targets: Row["targets"];
    if (action.startsWith("image.")) {
      targets = [
        {
          ref: `${familiar(repo.name)}:${tag}`,
          digestBefore: action === "image.remove" ? digest : before,
          digestAfter: action === "image.remove" ? null : digest,
        },
      ];
      if (action === "image.prune" || (action === "image.remove" && random() < 0.2))
        targets.push({ ref: digest, digestBefore: digest, digestAfter: null });
    } else if (action === "protection.rule.add") {
      targets = [{ ref: `${repo.namespace}/*:release-*`, digestBefore: null, digestAfter: null }];
    } else if (action === "registry.save") {
      targets = [{ ref: "localhost:5000", digestBefore: null, digestAfter: null }];
    } else {
      targets = [{ ref: `user:${actor}`, digestBefore: null, digestAfter: null }];
    }
    const denied = result === "denied";
    yield {
      id: after + BigInt(i + 1),
      // Evenly spread with jitter, never going back in time (as the chain trigger keeps it).
      at: new Date(model.start.getTime() + Math.floor(((i + random() * 0.9) / total) * span)),
      actor_id: actor === "system" ? null : `00000000-0000-4000-8000-${String(model.people.indexOf(actor)).padStart(12, "0")}`,
      actor_name: actor,
      action,
      interface: actor === "system" ? "system" : interfaces[i % 3]!,
      result,
      error: denied
        ? `${actor} needs the developer role in namespace ${repo.namespace}`
        : result === "failed"
          ? "upstream registry unavailable"
          : null,
      ip: `10.0.${i % 7}.${(i * 13) % 250}`,
      user_agent: agents[i % 3]!,
      targets,
      details:
        action === "image.tag"
          ? { source: digest }
          : action === "image.remove"
            ? { force: random() < 0.1 }
            : denied
              ? { permission: "tag", namespace: repo.namespace }
              : {},
    };
  }
}

/** One batch, ready to insert: rows with their chain links and their search terms. */
interface Batch {
  rows: Row[];
  prevs: (string | null)[];
  hashes: string[];
  terms: AuditTerm[][];
}

/** Term ids by kind and value, as audit_search_terms holds them. */
type Dictionary = Map<string, bigint>;
const termKey = (t: AuditTerm) => `${t.kind}\u0000${t.value}`;

async function insertBatch(client: pg.Client, batch: Batch, dictionary: Dictionary): Promise<void> {
  const { rows } = batch;
  const col = <K extends keyof Row>(k: K) => rows.map((r) => r[k]);
  await client.query(
    `INSERT INTO audit_events (id, at, actor_id, actor_name, action, interface, result, error, ip, user_agent, targets, details, prev_hash, hash)
     SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                          $9::text[], $10::text[], $11::jsonb[], $12::jsonb[], $13::text[], $14::text[])`,
    [
      col("id").map(String),
      col("at"),
      col("actor_id"),
      col("actor_name"),
      col("action"),
      col("interface"),
      col("result"),
      col("error"),
      col("ip"),
      col("user_agent"),
      col("targets").map((t) => JSON.stringify(t)),
      col("details").map((d) => JSON.stringify(d)),
      batch.prevs,
      batch.hashes,
    ],
  );
  const fresh = new Map<string, AuditTerm>();
  for (const terms of batch.terms) for (const t of terms) if (!dictionary.has(termKey(t))) fresh.set(termKey(t), t);
  if (fresh.size > 0) {
    const added = await client.query<{ id: string; kind: string; value: string }>(
      `INSERT INTO audit_search_terms (kind, value) SELECT * FROM unnest($1::text[], $2::text[]) RETURNING id, kind, value`,
      [[...fresh.values()].map((t) => t.kind), [...fresh.values()].map((t) => t.value)],
    );
    for (const r of added.rows) dictionary.set(`${r.kind}\u0000${r.value}`, BigInt(r.id));
  }
  const termIds: string[] = [];
  const eventIds: string[] = [];
  batch.terms.forEach((terms, i) => {
    for (const t of terms) {
      termIds.push(String(dictionary.get(termKey(t))));
      eventIds.push(String(rows[i]!.id));
    }
  });
  await client.query(`INSERT INTO audit_search_postings (term_id, event_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])`, [
    termIds,
    eventIds,
  ]);
}

/** The last event of the log (the server's own, such as the bench's sign-in): the seeded ones go after it. */
export async function auditTail(client: pg.Client): Promise<{ id: bigint; at: Date; hash: string | null }> {
  const { rows } = await client.query<{ id: string; at: Date; hash: string }>(
    "SELECT id::text, at, hash FROM audit_events ORDER BY id DESC LIMIT 1",
  );
  const row = rows[0];
  return row ? { id: BigInt(row.id), at: row.at, hash: row.hash } : { id: 0n, at: new Date(0), hash: null };
}

/**
 * Appends `total` events to a new log (after the few events the server already has) in batches,
 * over the model's year; returns the seconds it took. The
 * caller's client must be a superuser or own the table (to disable the triggers). Each batch is
 * prepared (hashes, terms) while the previous one is written.
 */
export async function seedAuditEvents(
  client: pg.Client,
  model: SeedModel,
  total: number,
  onProgress?: (done: number) => void,
): Promise<number> {
  const started = performance.now();
  const tail = await auditTail(client);
  if (tail.id >= 1000n) throw new Error(`the audit log already has ${tail.id} events: seed a new server's log`);
  await client.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain");
  await client.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_index_terms");
  try {
    const size = 5000;
    const dictionary: Dictionary = new Map();
    let prev: string | null = tail.hash;
    let last = tail.at;
    let pending: Promise<void> = Promise.resolve();
    let done = 0;
    let batch: Batch = { rows: [], prevs: [], hashes: [], terms: [] };
    const send = async () => {
      const ready = batch;
      batch = { rows: [], prevs: [], hashes: [], terms: [] };
      await pending;
      pending = insertBatch(client, ready, dictionary);
      done += ready.rows.length;
      onProgress?.(done);
    };
    for (const row of events(model, total, mulberry32(7), tail.id)) {
      if (row.at < last) row.at = last;
      last = row.at;
      const hash = auditHash(prev, auditCanonical(row));
      batch.rows.push(row);
      batch.prevs.push(prev);
      batch.hashes.push(hash);
      batch.terms.push(eventTerms(row.action, row.targets));
      prev = hash;
      if (batch.rows.length === size) await send();
    }
    if (batch.rows.length) await send();
    await pending;
    await client.query("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), (SELECT max(id) FROM audit_events))");
    await client.query("SELECT setval(pg_get_serial_sequence('audit_search_terms', 'id'), (SELECT max(id) FROM audit_search_terms))");
  } finally {
    await client.query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_chain");
    await client.query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_index_terms");
  }
  await client.query("VACUUM ANALYZE audit_events, audit_search_terms, audit_search_postings");
  return (performance.now() - started) / 1000;
}

/**
 * Checks the seeding's TypeScript twin (eventTerms) indexed a random sample of events exactly like
 * the search-term trigger would: every term the trigger's SQL function gives has its posting, and
 * the sample has no other postings (one scan of the postings, which are keyed by term first).
 */
export async function checkSeededTerms(client: pg.Client, sample: number): Promise<{ checked: number; different: number }> {
  const { rows } = await client.query<{ checked: number; missing: number; expected: number; found: number }>(
    `WITH s AS MATERIALIZED (SELECT id, action, targets FROM audit_events TABLESAMPLE BERNOULLI (1) LIMIT $1),
          t AS MATERIALIZED (SELECT s.id, x.kind, x.value FROM s CROSS JOIN LATERAL audit_event_terms(s.action, s.targets) x)
     SELECT (SELECT count(*) FROM s)::int AS checked,
            (SELECT count(DISTINCT t.id) FROM t WHERE NOT EXISTS (
               SELECT 1 FROM audit_search_terms w JOIN audit_search_postings p ON p.term_id = w.id AND p.event_id = t.id
               WHERE w.kind = t.kind AND w.value = t.value))::int AS missing,
            (SELECT count(*) FROM t)::int AS expected,
            (SELECT count(*) FROM audit_search_postings WHERE event_id = ANY (ARRAY(SELECT id FROM s)))::int AS found`,
    [sample],
  );
  const r = rows[0]!;
  return { checked: r.checked, different: r.missing + Math.abs(r.found - r.expected) };
}
