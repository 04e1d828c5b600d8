/**
 * The TypeScript canonical form (used to verify archives offline) must be byte for byte the text
 * audit_event_canonical produces, for every value jsonb can hold; and archives must verify, and
 * fail at the right line when edited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent, auditArchiveLines, auditCanonical, auditHash, freezeAuditRange, verifyAuditArchive } from "../src/index";
import { jsonbText, numericText, parseJsonText } from "../src/json-text";
import { createTestDatabase, randomDigest, withPg } from "./helpers";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

// Written as JSON text, so the database sees the numbers exactly as spelled here.
const AWKWARD_DETAILS = String.raw`{
  "n": 1.50, "big": 1e21, "neg0": -0, "negz": -0.00, "small": 1e-7, "exp": 1.50e1, "expneg": 123E-1, "zero": 0.000e5,
  "huge": 123456789012345678901234567890, "neg": -42.0, "dup": 1, "dup": 2,
  "ü": "é\u0001\t\"\\/\u2028\ud83d\ude00", "": [], "aa": {}, "b": [1, "x", null, true, false, {"zz": 1, "a": 2, "ab": 3}],
  "__proto__": {"x": 1}, "ctl": "\u001f\u007f\b\f\n\r"
}`;

interface Row {
  id: string;
  at: Date;
  actor_id: string | null;
  actor_name: string;
  action: string;
  interface: string;
  result: string;
  error: string | null;
  ip: string | null;
  user_agent: string | null;
  targets: string;
  details: string;
  prev_hash: string | null;
  hash: string;
  canonical: string;
}

async function rows(url: string): Promise<Row[]> {
  const { rows } = await withPg(url, (c) =>
    c.query<Row>(`SELECT e.id::text, e.at, e.actor_id, e.actor_name, e.action, e.interface, e.result, e.error, e.ip,
                         e.user_agent, e.targets::text, e.details::text, e.prev_hash, e.hash, audit_event_canonical(e) AS canonical
                  FROM audit_events e ORDER BY e.id`),
  );
  return rows;
}

describe("numericText", () => {
  it("prints numbers as numeric_out does", () => {
    const cases: [string, string][] = [
      ["1.50", "1.50"],
      ["1e21", "1000000000000000000000"],
      ["1e+21", "1000000000000000000000"],
      ["-0", "0"],
      ["-0.00", "0.00"],
      ["1e-7", "0.0000001"],
      ["1.5e-7", "0.00000015"],
      ["1.50e1", "15.0"],
      ["123E-1", "12.3"],
      ["0.000e5", "0"],
      ["0.1", "0.1"],
      ["-12.5e2", "-1250"],
      ["100", "100"],
    ];
    expect(cases.map(([input]) => numericText(input))).toEqual(cases.map(([, out]) => out));
  });
});

describe("the canonical form", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await appendAuditEvent(db.prisma, {
      actorId: "0b8e4c2a-1f3d-4e5a-9b6c-7d8e9f0a1b2c",
      actorName: 'ålice "q"',
      action: "image.tag",
      interface: "web",
      result: "failed",
      error: "line 1\nline 2\ttab",
      ip: "::1",
      userAgent: "Mozilla/5.0 (X11)",
      targets: [{ ref: "team-a/app:v1", digestBefore: randomDigest(), digestAfter: null }],
      details: { float: 0.1, tiny: 1e-7, big: 1e21, negZero: -0, nested: { b: [1, 2.5, null], a: "x" }, undef: undefined },
    });
    await withPg(db.url, (c) =>
      c.query(
        `INSERT INTO audit_events (actor_name, action, interface, result, targets, details)
         VALUES ('bob', 'x.y', 'api', 'ok', '[{"ref": "r", "n": 2.0}]', $1::jsonb)`,
        [AWKWARD_DETAILS],
      ),
    );
    await appendAuditEvent(db.prisma, { actorName: "system", action: "image.prune", interface: "system", result: "ok" });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("is the text audit_event_canonical produces, from the database's JSON and from JavaScript values", async () => {
    const all = await rows(db.url);
    expect(all).toHaveLength(3);
    for (const row of all) {
      const ts = auditCanonical({ ...row, id: BigInt(row.id), targets: parseJsonText(row.targets), details: parseJsonText(row.details) });
      expect(ts).toBe(row.canonical);
      expect(auditHash(row.prev_hash, ts)).toBe(row.hash);
    }
    // The first event's details as the JavaScript object appendAuditEvent was given.
    const first = all[0]!;
    const fromJs = auditCanonical({
      ...first,
      id: BigInt(first.id),
      targets: parseJsonText(first.targets),
      details: { float: 0.1, tiny: 1e-7, big: 1e21, negZero: -0, nested: { b: [1, 2.5, null], a: "x" } },
    });
    expect(fromJs).toBe(first.canonical);
    expect(all[1]!.canonical).toContain(String.raw`"dup": 2`);
    expect(jsonbText(parseJsonText(all[1]!.details))).toBe(all[1]!.details);
  });

  it("makes archives that verify offline, and finds an edited, removed or reordered line", async () => {
    const range = await freezeAuditRange(db.prisma, {});
    const lines: string[] = [];
    for await (const line of auditArchiveLines(db.prisma, range!, 2)) lines.push(line.line);
    expect(lines).toHaveLength(3);
    const all = await rows(db.url);
    expect(await verifyAuditArchive([...lines, ""])).toEqual({
      ok: true,
      count: 3,
      firstId: Number(all[0]!.id),
      lastId: Number(all[2]!.id),
      firstPrevHash: null,
      lastHash: all[2]!.hash,
    });

    const edited = [...lines];
    edited[1] = edited[1]!.replace('"actor_name": "bob"', '"actor_name": "eve"');
    expect(edited[1]).not.toBe(lines[1]);
    expect(await verifyAuditArchive(edited)).toMatchObject({
      ok: false,
      count: 1,
      line: 2,
      id: Number(all[1]!.id),
      reason: expect.stringMatching(/altered/) as unknown,
    });

    const number = [...lines];
    number[1] = number[1]!.replace('"n": 1.50', '"n": 1.5');
    expect(await verifyAuditArchive(number)).toMatchObject({ ok: false, line: 2 });

    expect(await verifyAuditArchive([lines[0]!, lines[2]!])).toMatchObject({
      ok: false,
      line: 2,
      id: Number(all[2]!.id),
      reason: expect.stringMatching(/removed or altered/) as unknown,
    });
    expect(await verifyAuditArchive([lines[1]!, lines[0]!])).toMatchObject({
      ok: false,
      line: 2,
      reason: expect.stringMatching(/reordered/) as unknown,
    });
    const extra = lines[0]!.replace('{"at"', '{"note": "x", "at"');
    expect(await verifyAuditArchive([extra])).toMatchObject({
      ok: false,
      line: 1,
      reason: expect.stringMatching(/unexpected field "note"/) as unknown,
    });
    expect(await verifyAuditArchive(["{not json"])).toMatchObject({
      ok: false,
      line: 1,
      id: null,
      reason: expect.stringMatching(/not JSON/) as unknown,
    });
  });
});
