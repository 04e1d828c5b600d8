import { describe, expect, it } from "vitest";
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
