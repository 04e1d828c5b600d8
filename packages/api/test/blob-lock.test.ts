import { openAdvisoryLock, type AdvisoryLock } from "@berth/db";
import { createTestDatabase, type TestDatabase } from "@berth/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobLock } from "../src/services/blob-lock";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("BlobLock", () => {
  it("never runs a collection while a load holds the lock, and lets queued collections go before new loads", async () => {
    const lock = new BlobLock();
    const log: string[] = [];
    let releaseLoad!: () => void;
    const load = lock.shared(async () => {
      log.push("load start");
      await new Promise<void>((r) => (releaseLoad = r));
      log.push("load end");
    });
    await tick();
    const gc = lock.exclusive(async () => {
      log.push("gc");
      await tick();
      log.push("gc end");
    });
    const later = lock.shared(() => Promise.resolve(void log.push("second load")));
    await tick();
    expect(log).toEqual(["load start"]);
    releaseLoad();
    await Promise.all([load, gc, later]);
    expect(log).toEqual(["load start", "load end", "gc", "gc end", "second load"]);
  });

  it("runs loads together and releases on failure", async () => {
    const lock = new BlobLock();
    let inside = 0;
    let most = 0;
    const run = () =>
      lock.shared(async () => {
        most = Math.max(most, ++inside);
        await tick();
        inside--;
      });
    await Promise.all([run(), run(), run()]);
    expect(most).toBe(3);
    await expect(lock.exclusive(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(lock.shared(() => Promise.resolve("ok"))).resolves.toBe("ok");
  });
});

describe("BlobLock across replicas (a PostgreSQL advisory lock)", () => {
  let database: TestDatabase;
  const opened: AdvisoryLock[] = [];
  /** Two processes' locks on one database, each on a connection of its own. */
  const replicas = async (yieldCheckMs?: number) => {
    const [a, b] = await Promise.all([openAdvisoryLock(database.url, "berth:blobs"), openAdvisoryLock(database.url, "berth:blobs")]);
    opened.push(a, b);
    return [new BlobLock(a, undefined, yieldCheckMs), new BlobLock(b, undefined, yieldCheckMs)] as const;
  };
  /** Runs `fn` under the lock until `release` is called; resolves `started` once inside. */
  const held = (take: (fn: () => Promise<void>) => Promise<void>, log: string[], name: string) => {
    let release!: () => void;
    let started!: () => void;
    const inside = new Promise<void>((r) => (started = r));
    const done = take(async () => {
      log.push(`${name} start`);
      started();
      await new Promise<void>((r) => (release = r));
      log.push(`${name} end`);
    });
    return { inside, done, release: () => release() };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.prisma.$disconnect();
  });
  afterAll(async () => {
    for (const lock of opened) await lock.close();
    await database?.drop();
  });

  it("a collection on one replica waits for a load on another, and a load for a collection", async () => {
    const [web, worker] = await replicas();
    const log: string[] = [];
    const pull = held((fn) => worker.shared(fn), log, "worker pull");
    await pull.inside;
    const gc = held((fn) => web.exclusive(fn), log, "web gc");
    await new Promise((r) => setTimeout(r, 200));
    expect(log).toEqual(["worker pull start"]);
    pull.release();
    await gc.inside;
    // And the other way round: the worker's next load waits for the web replica's collection.
    const next = held((fn) => worker.shared(fn), log, "worker load");
    await new Promise((r) => setTimeout(r, 200));
    expect(log).toEqual(["worker pull start", "worker pull end", "web gc start"]);
    gc.release();
    await next.inside;
    next.release();
    await Promise.all([pull.done, gc.done, next.done]);
    expect(log).toEqual(["worker pull start", "worker pull end", "web gc start", "web gc end", "worker load start", "worker load end"]);
  });

  it("a collection is not starved by another replica whose loads overlap without a gap", async () => {
    const [web, worker] = await replicas(50);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const spans: { what: string; start: number; end: number }[] = [];
    const span = async (what: string, ms: number) => {
      const start = performance.now();
      await sleep(ms);
      spans.push({ what, start, end: performance.now() });
    };
    // The worker's loads: each 150 ms, the next asked for 75 ms after the one before, 40 in all (3 s),
    // so it always has one running.
    const loads: Promise<void>[] = [];
    const chain = (async () => {
      for (let i = 0; i < 40; i++) {
        loads.push(worker.shared(() => span(`load ${i}`, 150)));
        await sleep(75);
      }
    })();
    await sleep(200);
    const gc = web.exclusive(() => span("gc", 20));
    await Promise.all([chain, gc]);
    await Promise.all(loads);
    const collection = spans.find((s) => s.what === "gc")!;
    const after = spans.filter((s) => s.start >= collection.end);
    // It ran while the worker was still busy: a good part of the worker's loads came after it...
    expect(after.length).toBeGreaterThan(10);
    // ...and none of them overlapped it.
    expect(spans.filter((s) => s.what !== "gc" && s.start < collection.end && s.end > collection.start)).toEqual([]);
  });

  it("a replica's loads one after another take the cluster lock once; a collection elsewhere waits only the linger for it", async () => {
    const [a, b] = await Promise.all([openAdvisoryLock(database.url, "berth:blobs"), openAdvisoryLock(database.url, "berth:blobs")]);
    opened.push(a, b);
    let taken = 0;
    const counted: AdvisoryLock = { ...a, lockShared: () => (taken++, a.lockShared()) };
    // A watch slower than the test, so only the linger lets go.
    const web = new BlobLock(counted, undefined, 60_000, 200);
    const worker = new BlobLock(b);
    for (let i = 0; i < 5; i++) {
      await web.shared(() => new Promise((r) => setTimeout(r, 10)));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(taken).toBe(1);
    const asked = performance.now();
    await worker.exclusive(() => Promise.resolve());
    expect(performance.now() - asked).toBeLessThan(1000);
    // A collection on this replica does not wait for its own linger.
    await web.shared(() => Promise.resolve());
    const local = performance.now();
    await web.exclusive(() => Promise.resolve());
    expect(performance.now() - local).toBeLessThan(150);
    expect(taken).toBe(2);
  });

  it("a linger ends as soon as the watch sees a collection waiting elsewhere", async () => {
    const [a, b] = await Promise.all([openAdvisoryLock(database.url, "berth:blobs"), openAdvisoryLock(database.url, "berth:blobs")]);
    opened.push(a, b);
    const web = new BlobLock(a, undefined, 50, 60_000);
    const worker = new BlobLock(b);
    await web.shared(() => Promise.resolve());
    const asked = performance.now();
    await worker.exclusive(() => Promise.resolve());
    expect(performance.now() - asked).toBeLessThan(1000);
  });

  it("loads on different replicas run together", async () => {
    const [web, worker] = await replicas();
    const log: string[] = [];
    const a = held((fn) => web.shared(fn), log, "web load");
    const b = held((fn) => worker.shared(fn), log, "worker load");
    await Promise.all([a.inside, b.inside]);
    a.release();
    b.release();
    await Promise.all([a.done, b.done]);
    expect(log.slice(0, 2).sort()).toEqual(["web load start", "worker load start"]);
  });
});
