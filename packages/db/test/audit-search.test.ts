/**
 * Every audit filter, alone and combined, against a small log whose answers are worked out here
 * from the events themselves; and keyset paging at its edges.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent, eventTerms, listAuditEvents } from "../src/index";
import type { AuditEvent, AuditFilter, AuditResult } from "../src/index";
import { createTestDatabase, withPg } from "./helpers";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const hex = (head: string, fill: string) => `sha256:${head}${fill.repeat(64 - head.length)}`;
// Two digests sharing a 12-character prefix, and two others.
const DA = hex("abcdef012345", "0");
const DB = hex("abcdef012345", "1");
const DC = hex("c0ffee", "2");
const DD = hex("d00d", "3");

const PEOPLE = ["alice", "bob", "robot:ci"];
const ACTIONS = ["image.tag", "image.remove", "image.pull", "auth.sign-in", "token.create", "protection.rule.add"];
const RESULTS: AuditResult[] = ["ok", "ok", "denied", "ok", "failed"];
const REFS = ["team-a/app:v1", "team-a/app:v2", "team-b/web:v1", "redis:7", "localhost:5000/team-a/app:v1", "team-a/app-x:latest"];
const DIGESTS = [DA, DB, DC, DD, null];

/** The i-th event of the log: every combination turns up. */
function spec(i: number) {
  const action = ACTIONS[i % ACTIONS.length]!;
  const ref = REFS[(i * 7) % REFS.length]!;
  const before = DIGESTS[(i * 3) % DIGESTS.length]!;
  const after = DIGESTS[(i * 11 + 1) % DIGESTS.length]!;
  const targets = action.startsWith("image.")
    ? [{ ref, digestBefore: before, digestAfter: after }, ...(i % 9 === 0 ? [{ ref: DC }] : [])]
    : action === "protection.rule.add"
      ? [{ ref: `${i % 4 === 1 ? "team-a" : "team-b"}/*:release-*` }]
      : action === "auth.sign-in" && i % 4 === 0
        ? [{ ref: "namespace:team-a" }]
        : [{ ref: `user:${PEOPLE[i % 3]}` }];
  return {
    actorName: PEOPLE[(i * 5) % PEOPLE.length]!,
    action,
    interface: "web" as const,
    result: RESULTS[i % RESULTS.length]!,
    targets,
  };
}

/** What a filter should return, decided from the event and its terms. */
function matches(e: AuditEvent, f: AuditFilter): boolean {
  const terms = new Set(
    eventTerms(
      e.action,
      e.targets.map((t) => ({ ref: t.ref, digestBefore: t.digestBefore?.toString(), digestAfter: t.digestAfter?.toString() })),
    ).map((t) => `${t.kind}=${t.value}`),
  );
  if (f.person !== undefined && e.actorName !== f.person) return false;
  if (f.action !== undefined && (f.action.endsWith("*") ? !e.action.startsWith(f.action.slice(0, -1)) : e.action !== f.action))
    return false;
  if (f.result !== undefined && e.result !== f.result) return false;
  if (f.namespace !== undefined && !terms.has(`namespace=${f.namespace}`)) return false;
  if (f.repository !== undefined && !terms.has(`repository=${f.repository}`)) return false;
  if (f.tag !== undefined && !terms.has(f.tag.includes(":") ? `reference=${f.tag}` : `tag=${f.tag}`)) return false;
  if (f.digest !== undefined && ![...terms].some((t) => t.startsWith(`digest=${f.digest}`))) return false;
  if (f.from !== undefined && e.at < f.from) return false;
  if (f.to !== undefined && e.at >= f.to) return false;
  return true;
}

describe("listAuditEvents filters", () => {
  let db: TestDatabase;
  let log: AuditEvent[]; // newest first
  const page = (f: AuditFilter & { cursor?: string }, limit = 500) => listAuditEvents(db.prisma, { ...f, limit });
  const ids = (events: AuditEvent[]) => events.map((e) => e.id);

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 90; i++) {
      await appendAuditEvent(db.prisma, spec(i));
      // A few distinct milliseconds for the time filters.
      if (i % 30 === 29) await new Promise((r) => setTimeout(r, 5));
    }
    log = (await page({})).events;
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  const SINGLE: AuditFilter[] = [
    { person: "alice" },
    { person: "robot:ci" },
    { person: "nobody" },
    { action: "image.tag" },
    { action: "image.*" },
    { action: "auth.*" },
    { action: "nothing.*" },
    { result: "denied" },
    { result: "failed" },
    { namespace: "team-a" },
    { namespace: "library" },
    { namespace: "team-b" },
    { namespace: "nowhere" },
    { repository: "docker.io/team-a/app" },
    { repository: "localhost:5000/team-a/app" },
    { tag: "v1" },
    { tag: "docker.io/team-a/app:v1" },
    { digest: DA },
    { digest: DC },
  ];
  const COMBINED: AuditFilter[] = [
    { person: "alice", action: "image.*" },
    { person: "bob", namespace: "team-a" },
    { namespace: "team-a", result: "denied" },
    { repository: "docker.io/team-a/app", tag: "v2" },
    { action: "image.tag", digest: DB, person: "alice" },
    { action: "image.*", namespace: "team-a", result: "ok" },
    { namespace: "team-a", tag: "v1", digest: DD },
    { person: "bob", action: "protection.rule.add", namespace: "team-a" },
    { person: "robot:ci", result: "failed", action: "image.remove" },
  ];

  it("returns exactly the matching events, newest first, for each filter", async () => {
    for (const filter of SINGLE) {
      const expected = ids(log.filter((e) => matches(e, filter)));
      expect({ filter, ids: ids((await page(filter)).events) }).toEqual({ filter, ids: expected });
    }
    // The sample is not degenerate: filters select different, non-empty subsets.
    expect(log.filter((e) => matches(e, { namespace: "team-a" })).length).toBeGreaterThan(10);
    expect(log.filter((e) => matches(e, { digest: DA })).length).toBeGreaterThan(3);
  });

  it("returns exactly the events matching all filters when they are combined", async () => {
    for (const filter of COMBINED) {
      const expected = ids(log.filter((e) => matches(e, filter)));
      expect({ filter, ids: ids((await page(filter)).events) }).toEqual({ filter, ids: expected });
      expect({ filter, n: expected.length }).not.toEqual({ filter, n: 0 });
    }
  });

  it("gives the same answers when every combined filter is too large to read entry by entry", async () => {
    for (const filter of [...COMBINED, { namespace: "team-a", tag: "v1" }, { namespace: "team-a", digest: DA }]) {
      const expected = ids(log.filter((e) => matches(e, filter)));
      for (const probeCap of [1, 3]) {
        const result = await listAuditEvents(db.prisma, { ...filter, limit: 500 }, { probeCap });
        expect({ filter, probeCap, ids: ids(result.events) }).toEqual({ filter, probeCap, ids: expected });
      }
      const first = await listAuditEvents(db.prisma, { ...filter, limit: 2 }, { probeCap: 1 });
      const second = await listAuditEvents(db.prisma, { ...filter, limit: 2, cursor: first.nextCursor ?? "0" }, { probeCap: 1 });
      expect([...ids(first.events), ...ids(second.events)]).toEqual(expected.slice(0, first.nextCursor ? 4 : 2));
    }
  });

  it("pages on past a search budget: short pages, nothing lost or repeated, the end says so", async () => {
    for (const filter of COMBINED) {
      const expected = ids(log.filter((e) => matches(e, filter)));
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await listAuditEvents(
          db.prisma,
          { ...filter, limit: 3, ...(cursor !== undefined ? { cursor } : {}) },
          { probeCap: 1, scanBudget: 5 },
        );
        expect(page.events.length).toBeLessThanOrEqual(3);
        seen.push(...ids(page.events));
        pages++;
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect({ filter, seen }).toEqual({ filter, seen: expected });
      expect(pages).toBeGreaterThan(1);
    }
  });

  it("takes familiar names, references in the repository and tag filters, and digest prefixes", async () => {
    const want = (f: AuditFilter) => ids(log.filter((e) => matches(e, f)));
    expect(ids((await page({ repository: "team-a/app" })).events)).toEqual(want({ repository: "docker.io/team-a/app" }));
    expect(ids((await page({ repository: "redis" })).events)).toEqual(want({ repository: "docker.io/library/redis" }));
    expect(ids((await page({ repository: "team-a/app:v1" })).events)).toEqual(want({ tag: "docker.io/team-a/app:v1" }));
    expect(ids((await page({ tag: "team-a/app:v1" })).events)).toEqual(want({ tag: "docker.io/team-a/app:v1" }));
    expect(ids((await page({ digest: "abcdef0123450" })).events)).toEqual(want({ digest: DA }));
    expect(ids((await page({ digest: "sha256:C0FFEE222222" })).events)).toEqual(want({ digest: DC }));
    expect((await page({ digest: "999999999999" })).events).toEqual([]);
    // The protection rule `team-b/*:release-*` counts for its namespace.
    expect((await page({ namespace: "team-b", action: "protection.rule.add" })).events.length).toBeGreaterThan(0);
  });

  it("refuses bad filter values with a message naming the filter", async () => {
    await expect(page({ digest: "abcdef012345" })).rejects.toThrow(
      /invalid digest filter "abcdef012345": the prefix matches several digests/,
    );
    await expect(page({ digest: "abcdef" })).rejects.toThrow(/at least 12 hex characters/);
    await expect(page({ digest: "sha256:xyz" })).rejects.toThrow(/invalid digest filter/);
    await expect(page({ namespace: "Team-A" })).rejects.toThrow(/invalid namespace filter "Team-A"/);
    await expect(page({ repository: "team-a/UPPER" })).rejects.toThrow(/invalid repository filter/);
    await expect(page({ tag: "-v1" })).rejects.toThrow(/invalid tag filter/);
    await expect(page({ tag: "team-a/app" })).rejects.toThrow(/give a tag name/);
    await expect(page({ action: "im*ge" })).rejects.toThrow(/invalid action filter/);
    await expect(page({ result: "maybe" as AuditResult })).rejects.toThrow(/invalid result filter/);
  });

  it("filters by time, alone and with other filters", async () => {
    const chrono = [...log].reverse();
    const from = chrono[40]!.at;
    const to = chrono[70]!.at;
    for (const filter of [
      { from },
      { to },
      { from, to },
      { from, to, namespace: "team-a" },
      { from, person: "bob", action: "image.*" },
    ] as AuditFilter[]) {
      const expected = ids(log.filter((e) => matches(e, filter)));
      expect({ filter, ids: ids((await page(filter)).events) }).toEqual({ filter, ids: expected });
      expect(expected.length).toBeGreaterThan(0);
    }
    expect((await page({ from: new Date(Date.now() + 60_000) })).events).toEqual([]);
    expect((await page({ from: to, to: from })).events).toEqual([]);
    expect((await page({ to: new Date(0) })).events).toEqual([]);
  });

  it("keeps time in chain order, so a time range is an id range", () => {
    const chrono = [...log].reverse();
    for (let i = 1; i < chrono.length; i++) expect(chrono[i]!.at.getTime()).toBeGreaterThanOrEqual(chrono[i - 1]!.at.getTime());
  });

  it("pages every filter with a keyset cursor: no event lost or repeated, exact last page", async () => {
    for (const filter of [{}, ...SINGLE.slice(0, 12), ...COMBINED.slice(0, 4)]) {
      const expected = ids(log.filter((e) => matches(e, filter)));
      for (const limit of [1, 4, expected.length || 1]) {
        const seen: number[] = [];
        let cursor: string | undefined;
        let pages = 0;
        for (;;) {
          const result = await listAuditEvents(db.prisma, { ...filter, limit, ...(cursor !== undefined ? { cursor } : {}) });
          seen.push(...ids(result.events));
          pages++;
          if (result.nextCursor === null) break;
          expect(result.events).toHaveLength(limit);
          cursor = result.nextCursor;
        }
        expect({ filter, limit, seen }).toEqual({ filter, limit, seen: expected });
        // No empty page at the end when the matches fill the pages exactly.
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      }
    }
  });

  it("handles cursors at the edges", async () => {
    const oldest = log.at(-1)!;
    expect((await page({ cursor: String(oldest.id) })).events).toEqual([]);
    expect((await page({ cursor: "0" })).events).toEqual([]);
    expect(ids((await page({ cursor: String(log[0]!.id + 1000) }, 2)).events)).toEqual(ids(log.slice(0, 2)));
    expect(ids((await page({ cursor: String(log[1]!.id) }, 1)).events)).toEqual([log[2]!.id]);
    await expect(page({ cursor: "-1" })).rejects.toThrow(/invalid audit cursor/);
    await expect(page({ cursor: "12a" })).rejects.toThrow(/invalid audit cursor/);
    expect((await listAuditEvents(db.prisma, { limit: 0 })).events).toHaveLength(1);
    expect((await listAuditEvents(db.prisma, { limit: 10_000 })).events).toHaveLength(90);
  });

  it("indexes the events that were recorded before the search migration", async () => {
    // The migration's backfill uses the trigger's functions: re-running it finds nothing missing.
    const { rows } = await withPg(db.url, (c) =>
      c.query<{ missing: number }>(`
        SELECT count(*)::int AS missing FROM audit_events e
        CROSS JOIN LATERAL audit_event_terms(e.action, e.targets) t
        JOIN audit_search_terms s ON s.kind = t.kind AND s.value = t.value
        WHERE NOT EXISTS (SELECT 1 FROM audit_search_postings p WHERE p.term_id = s.id AND p.event_id = e.id)`),
    );
    expect(rows[0]!.missing).toBe(0);
  });
});
