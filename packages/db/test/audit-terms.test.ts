/**
 * The search terms the insert trigger indexes (SQL) and the ones the filters look up (TypeScript)
 * must be the same: a difference would silently hide events from a filter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent, eventTerms, listAuditEvents } from "../src/index";
import { createTestDatabase, withPg } from "./helpers";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b1".repeat(32)}`;

const REFS = [
  "redis",
  "redis:7",
  "library/redis:7.2-alpine",
  "docker.io/library/redis:7",
  "index.docker.io/library/redis",
  "team-a/app:v1.2",
  "team-a/sub/app:v1",
  "team_b/app__x:latest",
  "a--b/c:1",
  "localhost/app:1",
  "localhost:5000/team-a/app:1.0",
  "localhost:5000/app",
  "registry.example.com/org/app:stable",
  "Registry.Example.com/org/app",
  "[::1]:5000/org/app:1",
  "10.0.0.1:5000/x/y",
  `redis@${D1}`,
  `team-a/app:v1@${D2}`,
  "Team-A/app",
  "team-a/app:",
  "team-a/app:-bad",
  "team-a/app:" + "x".repeat(129),
  `${"a".repeat(64)}`,
  "sha256:" + "c".repeat(64),
  "sha256:abc",
  "team-a/app@sha256:abc",
  "team-a/app@SHA256:" + "a".repeat(64),
  "a_b.com/app",
  "a/" + "b".repeat(260),
  "redis:7 ",
  "team-a/*:release-*",
  "namespace:team-a",
  "namespace:Team",
  "user:alice",
  "token:ci",
  "docker.io",
  "localhost:5000",
  "https://mirror.example.com/v2",
  "",
];

const ACTIONS = ["image.tag", "images.inspect", "tag.remove", "jobs.pull", "protection.rule.add", "registry.save", "user.create"];

const key = (t: { kind: string; value: string }) => `${t.kind}=${t.value}`;

describe("audit search terms", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("are the same in SQL and TypeScript for every kind of ref and action", async () => {
    const targets = [
      ...REFS.map((ref) => ({ ref })),
      { ref: "team-a/app:v2", digestBefore: D1, digestAfter: D2 },
      { ref: "x", digestBefore: "sha256:short", digestAfter: null },
      { digestAfter: D1 },
      "not an object",
      null,
    ];
    const cases = ACTIONS.flatMap((action) => targets.map((target) => ({ action, target })));
    const { rows } = await withPg(db.url, (c) =>
      c.query<{ i: number; kind: string; value: string }>(
        `SELECT w.i, t.kind, t.value
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS w(c, i)
         CROSS JOIN LATERAL audit_event_terms(w.c ->> 'action', jsonb_build_array(w.c -> 'target')) AS t`,
        [JSON.stringify(cases)],
      ),
    );
    const sql = cases.map((_, i) =>
      rows
        .filter((r) => Number(r.i) === i + 1)
        .map(key)
        .sort(),
    );
    const ts = cases.map((c) => eventTerms(c.action, [c.target]).map(key).sort());
    const mismatches = cases
      .map((c, i) => ({ ...c, sql: sql[i], ts: ts[i] }))
      .filter((m) => JSON.stringify(m.sql) !== JSON.stringify(m.ts));
    expect(mismatches).toEqual([]);
    // And the rules say what they should: a sample.
    expect(ts[REFS.indexOf("localhost:5000/team-a/app:1.0")]).toEqual([
      "namespace=team-a",
      "reference=localhost:5000/team-a/app:1.0",
      "repository=localhost:5000/team-a/app",
      "tag=1.0",
    ]);
    expect(ts[REFS.indexOf("redis")]).toEqual(["namespace=library", "repository=docker.io/library/redis"]);
    // docker reads an upper-case first component as a registry host.
    expect(ts[REFS.indexOf("Team-A/app")]).toEqual(["namespace=app", "repository=Team-A/app"]);
    expect(ts[REFS.indexOf("team-a/app:-bad")]).toEqual([]);
    const protectionRule = ACTIONS.indexOf("protection.rule.add") * targets.length + REFS.indexOf("team-a/*:release-*");
    expect(ts[protectionRule]).toEqual(["namespace=team-a"]);
    const registry = ACTIONS.indexOf("registry.save") * targets.length + REFS.indexOf("localhost:5000");
    expect(ts[registry]).toEqual([]);
  });

  it("are indexed when an event is appended, and the filters find it by them", async () => {
    const event = await appendAuditEvent(db.prisma, {
      actorName: "alice",
      action: "image.tag",
      interface: "web",
      result: "ok",
      targets: [{ ref: "team-a/app:v1.2", digestBefore: D1, digestAfter: D2 }],
    });
    const { rows } = await withPg(db.url, (c) =>
      c.query<{ kind: string; value: string }>(
        `SELECT s.kind, s.value FROM audit_search_postings p JOIN audit_search_terms s ON s.id = p.term_id
         WHERE p.event_id = $1 ORDER BY 1, 2`,
        [event.id],
      ),
    );
    expect(rows.map(key)).toEqual([
      `digest=${D1}`,
      `digest=${D2}`,
      "namespace=team-a",
      "reference=docker.io/team-a/app:v1.2",
      "repository=docker.io/team-a/app",
      "tag=v1.2",
    ]);
    for (const filter of [
      { namespace: "team-a" },
      { repository: "team-a/app" },
      { tag: "v1.2" },
      { tag: "team-a/app:v1.2" },
      { digest: D1 },
    ]) {
      expect((await listAuditEvents(db.prisma, { ...filter, limit: 5 })).events.map((e) => e.id)).toEqual([event.id]);
    }
  });

  it("refuse changes like the events they index", async () => {
    for (const statement of [
      "DELETE FROM audit_search_postings",
      "UPDATE audit_search_terms SET value = 'x'",
      "TRUNCATE audit_search_terms",
    ]) {
      await expect(withPg(db.url, (c) => c.query(statement))).rejects.toThrow(/is append-only/);
    }
  });
});
