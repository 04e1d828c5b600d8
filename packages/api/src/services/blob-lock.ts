import type { AdvisoryLock } from "@berth/db";

/**
 * Loads write blobs before their images exist in the database; garbage collection deletes
 * blobs no image uses. Without coordination a collection running between a load's blob write
 * and its metadata commit would delete a blob the load is about to reference. Loads hold this
 * lock shared for their whole run, collections hold it exclusively.
 *
 * Replicas share the blob volume, so the rule holds across them too: with a PostgreSQL advisory
 * lock (`cluster`), a process holds it shared while any of its loads runs, and a collection
 * holds it exclusively, after this process's loads and every other replica's have ended.
 */
export class BlobLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: { exclusive: boolean; wake: () => void }[] = [];
  /** This process's shared hold on the cluster lock, while it has readers. */
  private clusterShared: Promise<void> | undefined;
  /** The last release of that hold, which a collection's exclusive request must follow. */
  private released: Promise<void> = Promise.resolve();

  constructor(
    private readonly cluster?: AdvisoryLock,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {}

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    // Behind a queued collection, so a stream of loads cannot starve it.
    if (this.writer || this.waiting.length > 0) {
      await new Promise<void>((wake) => this.waiting.push({ exclusive: false, wake }));
    } else {
      this.readers++;
    }
    try {
      if (this.cluster) {
        const cluster = this.cluster;
        this.clusterShared ??= this.released.then(() => cluster.lockShared());
        await this.clusterShared;
      }
      return await fn();
    } finally {
      this.readers--;
      if (this.readers === 0 && this.clusterShared) {
        const held = this.clusterShared;
        this.clusterShared = undefined;
        this.released = held.then(
          () => this.cluster!.unlockShared().catch((err: unknown) => this.log(`berth: releasing the blob lock: ${(err as Error).message}`)),
          () => undefined,
        );
      }
      this.dispatch();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writer || this.readers > 0 || this.waiting.length > 0) {
      await new Promise<void>((wake) => this.waiting.push({ exclusive: true, wake }));
    } else {
      this.writer = true;
    }
    let clusterHeld = false;
    try {
      if (this.cluster) {
        await this.released;
        await this.cluster.lockExclusive();
        clusterHeld = true;
      }
      return await fn();
    } finally {
      if (clusterHeld) {
        await this.cluster!.unlockExclusive().catch((err: unknown) =>
          this.log(`berth: releasing the blob lock: ${(err as Error).message}`),
        );
      }
      this.writer = false;
      this.dispatch();
    }
  }

  /** Hands the lock to the next waiters; their counts are taken here, before they resume. */
  private dispatch(): void {
    while (!this.writer && this.waiting.length > 0) {
      const head = this.waiting[0]!;
      if (head.exclusive) {
        if (this.readers > 0) return;
        this.waiting.shift();
        this.writer = true;
        head.wake();
        return;
      }
      this.waiting.shift();
      this.readers++;
      head.wake();
    }
  }
}
