import type { AdvisoryLock } from "@berth/db";

/**
 * Loads write blobs before their images exist in the database; garbage collection deletes
 * blobs no image uses. Without coordination a collection running between a load's blob write
 * and its metadata commit would delete a blob the load is about to reference. Loads hold this
 * lock shared for their whole run, collections hold it exclusively.
 *
 * Replicas share the blob volume, so the rule holds across them too: with a PostgreSQL advisory
 * lock (`cluster`), a process holds it shared while any of its loads runs, and a collection
 * holds it exclusively, after this process's loads and every other replica's have ended. A
 * process whose loads overlap without a gap would hold it for ever: while it holds it, it asks
 * every `yieldCheckMs` whether a collection waits elsewhere, and if so holds its new loads back
 * until its running ones end and it has let go; they then queue in PostgreSQL behind that
 * collection, as a load here queues behind a collection here.
 *
 * The shared hold outlives the last load by `lingerMs`: a push is a dozen requests, a few of
 * them under this lock one after another, and each would otherwise wait for the last one's
 * release and a new lock (two round trips). A collection here or a waiting one elsewhere (seen
 * by the watch) ends the linger at once; otherwise one elsewhere waits at most that long for it.
 */
export class BlobLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: { exclusive: boolean; wake: () => void }[] = [];
  /** This process's shared hold on the cluster lock, while it has readers. */
  private clusterShared: Promise<void> | undefined;
  /** The last release of that hold, which a collection's exclusive request must follow. */
  private released: Promise<void> = Promise.resolve();
  /** While a collection on another replica waits for this process to let go: new loads wait for this. */
  private yielding: Promise<void> | undefined;
  private endYield: (() => void) | undefined;
  private watch: NodeJS.Timeout | undefined;
  private checking = false;
  /** Set while the shared hold is kept after the last load ended. */
  private linger: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster?: AdvisoryLock,
    private readonly log: (line: string) => void = (line) => console.error(line),
    private readonly yieldCheckMs = 1000,
    private readonly lingerMs = 200,
  ) {}

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.yielding) await this.yielding;
    // Behind a queued collection, so a stream of loads cannot starve it.
    if (this.writer || this.waiting.length > 0) {
      await new Promise<void>((wake) => this.waiting.push({ exclusive: false, wake }));
    } else {
      this.readers++;
    }
    clearTimeout(this.linger);
    this.linger = undefined;
    try {
      if (this.cluster) {
        const cluster = this.cluster;
        this.clusterShared ??= this.released.then(() => cluster.lockShared());
        await this.clusterShared;
        this.watchForCollections();
      }
      return await fn();
    } finally {
      this.readers--;
      if (this.readers === 0 && this.clusterShared) {
        if (this.yielding) this.letGo();
        else {
          this.linger = setTimeout(() => this.letGo(), this.lingerMs);
          this.linger.unref();
        }
      }
      this.dispatch();
    }
  }

  /** Ends this process's shared hold on the cluster lock (no load of it runs). */
  private letGo(): void {
    clearTimeout(this.linger);
    this.linger = undefined;
    const held = this.clusterShared;
    if (!held || this.readers > 0) return;
    this.clusterShared = undefined;
    clearInterval(this.watch);
    this.watch = undefined;
    this.released = held.then(
      () => this.cluster!.unlockShared().catch((err: unknown) => this.log(`berth: releasing the blob lock: ${(err as Error).message}`)),
      () => undefined,
    );
    const endYield = this.endYield;
    if (endYield) {
      this.endYield = undefined;
      void this.released.then(() => {
        this.yielding = undefined;
        endYield();
      });
    }
  }

  /** While this process holds the cluster lock shared: whether a collection elsewhere waits for it. */
  private watchForCollections(): void {
    if (this.watch || !this.cluster) return;
    const cluster = this.cluster;
    this.watch = setInterval(() => {
      if (this.checking || this.yielding || !this.clusterShared) return;
      this.checking = true;
      cluster
        .exclusiveWaiting()
        .then((waiting) => {
          if (!waiting || !this.clusterShared || this.yielding) return;
          this.yielding = new Promise<void>((r) => (this.endYield = r));
          // Kept only by the linger: no load to wait for.
          if (this.readers === 0) this.letGo();
        })
        .catch((err: unknown) => this.log(`berth: asking whether a blob collection waits: ${(err as Error).message}`))
        .finally(() => (this.checking = false));
    }, this.yieldCheckMs);
    this.watch.unref();
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
        // A hold kept after the last load (it has none now: this one waited for them) goes first.
        this.letGo();
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
