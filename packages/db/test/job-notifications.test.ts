import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelJob, claimNextJob, enqueueJob, listenJobChanges, type JobNotifications } from "../src/index";
import { createTestDatabase } from "./helpers";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

let db: TestDatabase;
let listener: JobNotifications | undefined;
const heard: string[] = [];
let resumed = 0;

/** Resolves once `heard` holds `entry`; rejects after `ms`. */
async function hears(entry: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!heard.includes(entry)) {
    if (Date.now() > deadline) throw new Error(`never heard "${entry}"; heard ${JSON.stringify(heard)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  listener = await listenJobChanges(db.url, {
    onChange: (id, state) => heard.push(`${id} ${state}`),
    onResume: () => (resumed += 1),
    retryMs: 100,
  });
});
afterAll(async () => {
  await listener?.close();
  await db?.drop();
});

describe("listenJobChanges", () => {
  it("hears each committed change of a job: queued, running, cancelled", async () => {
    const job = await enqueueJob(db.prisma, { kind: "pull", input: { ref: "a" }, createdById: null, createdByName: "t" });
    await hears(`${job.id} queued`);
    await claimNextJob(db.prisma, "w1");
    await hears(`${job.id} running`);
    await cancelJob(db.prisma, job.id);
    await hears(`${job.id} cancelled`);
  });

  it("hears nothing of a change rolled back", async () => {
    const marker = await enqueueJob(db.prisma, { kind: "pull", input: { ref: "b" }, createdById: null, createdByName: "t" });
    await db.prisma
      .$transaction(async (tx) => {
        await enqueueJob(tx, { kind: "push", input: { ref: "rolled-back" }, createdById: null, createdByName: "t" });
        throw new Error("roll back");
      })
      .catch(() => undefined);
    // Announced in commit order: once a later change is heard, the rolled-back one never will be.
    const after = await enqueueJob(db.prisma, { kind: "pull", input: { ref: "c" }, createdById: null, createdByName: "t" });
    await hears(`${after.id} queued`);
    const ids = heard.map((h) => h.split(" ")[0]);
    expect(ids).toContain(marker.id);
    const rows = await db.prisma.job.count({ where: { input: { path: ["ref"], equals: "rolled-back" } } });
    expect(rows).toBe(0);
    expect(heard.filter((h) => h.endsWith(" queued"))).toHaveLength(3);
  });

  it("listens again after its connection is killed, and says so", async () => {
    await db.prisma.$executeRaw`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`;
    const deadline = Date.now() + 10_000;
    while (resumed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(resumed).toBe(1);
    const job = await enqueueJob(db.prisma, { kind: "pull", input: { ref: "d" }, createdById: null, createdByName: "t" });
    await hears(`${job.id} queued`);
  });
});
