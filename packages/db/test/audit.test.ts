import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent, listAuditEvents, verifyAuditChain } from "../src/index";
import type { AuditEventInput } from "../src/index";
import { createTestDatabase, randomDigest, withPg } from "./helpers";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

function event(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    actorId: null,
    actorName: "alice",
    action: "image.tag",
    interface: "cli",
    result: "ok",
    targets: [{ ref: "docker.io/library/redis:7", digestBefore: null, digestAfter: randomDigest() }],
    details: { note: 'ünïcödé "quoted" \n newline', nested: { b: 2, a: [1, 2.5, null] } },
    ...overrides,
  };
}

describe("audit_events is append-only", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await appendAuditEvent(db.prisma, event());
  });
  afterAll(async () => {
    await db?.drop();
  });

  for (const statement of ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"]) {
    it(`refuses ${statement.split(" ")[0]}`, async () => {
      await expect(withPg(db.url, (c) => c.query(statement))).rejects.toThrow(/audit_events is append-only/);
      const { rows } = await withPg(db.url, (c) => c.query("SELECT count(*)::int AS n, min(action) AS a FROM audit_events"));
      expect(rows[0]).toEqual({ n: 1, a: "image.tag" });
    });
  }

  it("refuses an unknown interface or result", async () => {
    await expect(appendAuditEvent(db.prisma, event({ interface: "ftp" as never }))).rejects.toThrow();
    await expect(appendAuditEvent(db.prisma, event({ result: "maybe" as never }))).rejects.toThrow();
  });
});

describe("the hash chain", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("verifies an empty log", async () => {
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: true, count: 0 });
  });

  it("links each event to the previous one and verifies", async () => {
    const first = await appendAuditEvent(db.prisma, event());
    const second = await appendAuditEvent(db.prisma, event({ actorName: "bob", error: "boom", result: "failed" }));
    expect(first.prevHash).toBeNull();
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second.prevHash).toBe(first.hash);
    expect(second.id).toBeGreaterThan(first.id);
    expect(second.at.getTime()).toBeGreaterThanOrEqual(first.at.getTime());
    expect(second.details).toEqual(event().details);
    expect(second.targets[0]?.ref).toBe("docker.io/library/redis:7");
    expect(second.targets[0]?.digestBefore).toBeNull();
    expect(second.targets[0]?.digestAfter?.toString()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: true, count: 2 });
  });

  it("stays one chain under concurrent appends in separate transactions", async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.prisma.$transaction(async (tx) => {
          await tx.$executeRaw`SELECT pg_sleep(${(i % 5) / 200})`;
          await appendAuditEvent(tx, event({ actorName: `user${i}` }));
        }),
      ),
    );
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: true, count: 22 });
  });

  it("commits and rolls back with the operation's transaction", async () => {
    await expect(
      db.prisma.$transaction(async (tx) => {
        await appendAuditEvent(tx, event({ action: "image.remove" }));
        throw new Error("operation failed");
      }),
    ).rejects.toThrow("operation failed");
    const { events } = await listAuditEvents(db.prisma, { action: "image.remove", limit: 10 });
    expect(events).toEqual([]);
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: true, count: 22 });
  });

  it("refuses appends from a snapshot older than the chain lock", async () => {
    await expect(
      db.prisma.$transaction(async (tx) => appendAuditEvent(tx, event()), {
        isolationLevel: "RepeatableRead",
      }),
    ).rejects.toThrow(/READ COMMITTED/);
  });

  it("reports the altered row when a privileged session bypasses the triggers", async () => {
    const { events } = await listAuditEvents(db.prisma, { limit: 500 });
    const victim = events[5]!;
    await withPg(db.url, async (c) => {
      await c.query("ALTER TABLE audit_events DISABLE TRIGGER USER");
      await c.query(`UPDATE audit_events SET details = '{"note": "nothing to see"}' WHERE id = $1`, [victim.id]);
      await c.query("ALTER TABLE audit_events ENABLE TRIGGER USER");
    });
    const result = await verifyAuditChain(db.prisma);
    expect(result).toMatchObject({ ok: false, brokenAtId: victim.id });
    expect(result.ok === false && result.reason).toMatch(/altered/);
  });
});

describe("the hash chain after a deletion", () => {
  it("reports the second event when the first was removed", async () => {
    const db = await createTestDatabase();
    try {
      const first = await appendAuditEvent(db.prisma, event());
      const second = await appendAuditEvent(db.prisma, event({ actorName: "bob" }));
      await withPg(db.url, async (c) => {
        await c.query("ALTER TABLE audit_events DISABLE TRIGGER USER");
        await c.query("DELETE FROM audit_events WHERE id = $1", [first.id]);
        await c.query("ALTER TABLE audit_events ENABLE TRIGGER USER");
      });
      expect(await verifyAuditChain(db.prisma)).toEqual({
        ok: false,
        brokenAtId: second.id,
        reason: "the first event links to a previous one: earlier events were removed",
      });
    } finally {
      await db.drop();
    }
  });

  it("reports the event after the removed one", async () => {
    const db = await createTestDatabase();
    try {
      const appended: Awaited<ReturnType<typeof appendAuditEvent>>[] = [];
      for (let i = 0; i < 4; i++) appended.push(await appendAuditEvent(db.prisma, event({ actorName: `u${i}` })));
      await withPg(db.url, async (c) => {
        await c.query("ALTER TABLE audit_events DISABLE TRIGGER USER");
        await c.query("DELETE FROM audit_events WHERE id = $1", [appended[1]!.id]);
        await c.query("ALTER TABLE audit_events ENABLE TRIGGER USER");
      });
      expect(await verifyAuditChain(db.prisma)).toMatchObject({
        ok: false,
        brokenAtId: appended[2]!.id,
      });
    } finally {
      await db.drop();
    }
  });
});

describe("listAuditEvents", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    const refs = [
      "docker.io/library/redis:7",
      "docker.io/library/redis@sha256:" + "a".repeat(64),
      "docker.io/library/redis-stack:latest",
      "localhost:5000/team/app:1.0",
    ];
    for (let i = 0; i < 12; i++) {
      await appendAuditEvent(db.prisma, {
        actorName: i % 2 === 0 ? "alice" : "bob",
        action: i % 3 === 0 ? "image.pull" : "image.tag",
        interface: "web",
        result: "ok",
        targets: [{ ref: refs[i % refs.length]! }],
      });
    }
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("pages newest first with a keyset cursor", async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await listAuditEvents(db.prisma, {
        limit: 5,
        ...(cursor !== undefined ? { cursor } : {}),
      });
      seen.push(...page.events.map((e) => e.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(12);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    expect(new Set(seen).size).toBe(12);
    await expect(listAuditEvents(db.prisma, { limit: 5, cursor: "1 OR 1=1" })).rejects.toThrow(/invalid audit cursor/);
  });

  it("takes digests as Digest or checked strings", async () => {
    const digest = randomDigest();
    const event = await appendAuditEvent(db.prisma, {
      actorName: "carol",
      action: "image.tag",
      interface: "api",
      result: "ok",
      targets: [
        {
          ref: "docker.io/library/busybox:1",
          digestBefore: digest.toString(),
          digestAfter: digest,
        },
      ],
    });
    expect(event.targets[0]?.digestBefore).toEqual(digest);
    expect(event.targets[0]?.digestAfter).toEqual(digest);
    await expect(
      appendAuditEvent(db.prisma, {
        actorName: "carol",
        action: "image.tag",
        interface: "api",
        result: "ok",
        targets: [{ ref: "x", digestAfter: "sha256:nope" }],
      }),
    ).rejects.toThrow(/invalid digest/);
  });

  it("filters by person, action, repository and time", async () => {
    const alice = await listAuditEvents(db.prisma, { person: "alice", limit: 100 });
    expect(alice.events).toHaveLength(6);
    expect(alice.events.every((e) => e.actorName === "alice")).toBe(true);

    const pulls = await listAuditEvents(db.prisma, {
      action: "image.pull",
      person: "alice",
      limit: 100,
    });
    expect(pulls.events.map((e) => e.action)).toEqual(["image.pull", "image.pull"]);

    const redis = await listAuditEvents(db.prisma, {
      repository: "docker.io/library/redis",
      limit: 100,
    });
    expect(redis.events).toHaveLength(6); // redis:7 and redis@sha256, not redis-stack
    const registry = await listAuditEvents(db.prisma, {
      repository: "localhost:5000/team/app",
      limit: 100,
    });
    expect(registry.events).toHaveLength(3);

    const all = (await listAuditEvents(db.prisma, { limit: 100 })).events;
    const middle = all[6]!;
    const before = await listAuditEvents(db.prisma, {
      to: new Date(middle.at.getTime() + 1),
      limit: 100,
    });
    expect(before.events.every((e) => e.at.getTime() <= middle.at.getTime())).toBe(true);
    const future = await listAuditEvents(db.prisma, {
      from: new Date(Date.now() + 60_000),
      limit: 100,
    });
    expect(future.events).toEqual([]);
  });
});
