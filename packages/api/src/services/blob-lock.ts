/**
 * Loads write blobs before their images exist in the database; garbage collection deletes
 * blobs no image uses. Without coordination a collection running between a load's blob write
 * and its metadata commit would delete a blob the load is about to reference. Loads hold this
 * lock shared for their whole run, collections hold it exclusively.
 *
 * In-process: the blob volume belongs to one server today. Replicas sharing object storage
 * will need the same rule as a PostgreSQL advisory lock.
 */
export class BlobLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: { exclusive: boolean; wake: () => void }[] = [];

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    // Behind a queued collection, so a stream of loads cannot starve it.
    if (this.writer || this.waiting.length > 0) {
      await new Promise<void>((wake) => this.waiting.push({ exclusive: false, wake }));
    } else {
      this.readers++;
    }
    try {
      return await fn();
    } finally {
      this.readers--;
      this.dispatch();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writer || this.readers > 0 || this.waiting.length > 0) {
      await new Promise<void>((wake) => this.waiting.push({ exclusive: true, wake }));
    } else {
      this.writer = true;
    }
    try {
      return await fn();
    } finally {
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
