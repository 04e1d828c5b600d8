import { mkdir } from "node:fs/promises";
import { applyMigrations, CachedMetadataReads, createPrismaClient, listenJobChanges, openAdvisoryLock, resolveDatabase } from "@berth/db";
import { FsBlobStore } from "@berth/engine";
import type { Services } from "./context";
import { ensureAdmin } from "./services/auth";
import { BlobLock } from "./services/blob-lock";
import { notifyAllJobsChanged, notifyJobChanged } from "./services/job-events";
import { abortLocalJob, startJobRunner, wakeJobRunners } from "./services/job-runner";
import { warmTransferThread } from "@berth/engine";
import { createSecretBox, loadSecretKey } from "./services/secret-box";
import { requeueLayerChecks } from "./services/layer-check";
import { tuneHeapForStreaming } from "./heap-tuning";

/** While a server runs, a layer check that failed is tried again after ten minutes, five times at most. */
const LAYER_CHECK_RETRY = { endedMsAgo: 10 * 60_000, maxFailures: 5 };

export interface BootOptions {
  dataDir: string;
  blobDir: string;
  databaseUrl?: string;
  adminPassword?: string;
  /** `BERTH_SECRET_KEY` (base64 of 32 bytes); else `<dataDir>/secret.key`, created once. */
  secretKey?: string;
  log?: (line: string) => void;
  /** Run queued jobs in this process (default). A replica that only serves requests passes false. */
  runJobs?: boolean;
  /** How often an idle runner looks for queued jobs it was not told about; default 5 s. */
  jobPollMs?: number;
  /** `BERTH_MIRROR_TTL_SECONDS`: how long a mirrored tag is served before it is revalidated; default 300. */
  mirrorTtlSeconds?: number;
  /** `BERTH_LAYER_CHECK_INLINE_BYTES`: pushed gzip layers up to this size are checked before the push is answered; default 16 MiB. */
  layerCheckInlineBytes?: number;
}

export interface Booted {
  services: Services;
  databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * Everything a Berth server needs before it accepts requests: the database (embedded
 * PostgreSQL under the data directory unless DATABASE_URL is given), migrations, the blob
 * volume, and the first admin.
 */
export async function bootServer(opts: BootOptions): Promise<Booted> {
  const log = opts.log ?? ((line: string) => console.log(line));
  tuneHeapForStreaming();
  await mkdir(opts.dataDir, { recursive: true });
  // Before the database: a bad BERTH_SECRET_KEY stops the start with nothing else begun.
  const secretKey = await loadSecretKey({ dataDir: opts.dataDir, secretKey: opts.secretKey });
  const database = await resolveDatabase({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl });
  log(opts.databaseUrl ? "berth: using the PostgreSQL at DATABASE_URL" : `berth: embedded PostgreSQL in ${opts.dataDir}/postgres`);
  await applyMigrations(database.url);
  const db = createPrismaClient(database.url);
  const blobs = new FsBlobStore(opts.blobDir);
  await blobs.check();
  const admin = await ensureAdmin(db, opts.adminPassword);
  if (admin.created && admin.password) {
    log(`berth: created user "admin" with password: ${admin.password}`);
    log("berth: this password is shown only once; change it on the Tokens page after signing in");
  } else if (admin.created) {
    log('berth: created user "admin" with the password from BERTH_ADMIN_PASSWORD');
  }
  // Every replica on this database takes it: no collection anywhere runs while any of them loads.
  const blobClusterLock = await openAdvisoryLock(database.url, "berth:blobs", (err) =>
    log(`berth: the blob lock's database connection was lost: ${err.message} (reconnecting when next needed)`),
  );
  const services: Services = {
    db,
    blobs,
    reads: new CachedMetadataReads(db),
    blobLock: new BlobLock(blobClusterLock, log),
    secrets: createSecretBox(secretKey.key),
    ...(opts.mirrorTtlSeconds !== undefined ? { mirrorTtlSeconds: opts.mirrorTtlSeconds } : {}),
    ...(opts.layerCheckInlineBytes !== undefined ? { layerCheckInlineBytes: opts.layerCheckInlineBytes } : {}),
  };
  // Jobs queued or changed by any replica wake this one's runner and watchers at once.
  const announcements = await listenJobChanges(database.url, {
    onChange(id, state) {
      notifyJobChanged(id);
      if (state === "queued") wakeJobRunners();
      // Cancelled through another replica: stop now rather than at the next progress write.
      if (state === "cancelled") abortLocalJob(id);
    },
    onResume() {
      notifyAllJobsChanged();
      wakeJobRunners();
    },
    onError: (err) => log(`berth: listening for job changes: ${err.message} (retrying)`),
  });
  const jobs = opts.runJobs === false ? undefined : startJobRunner(services, { concurrency: 4, pollMs: opts.jobPollMs ?? 5_000, log });
  const requeue = async (retry?: Parameters<typeof requeueLayerChecks>[1]) => {
    const requeued = await requeueLayerChecks(db, retry);
    if (requeued > 0) {
      log(`berth: queued ${requeued} layer check(s) again that had failed`);
      wakeJobRunners();
    }
  };
  if (jobs) await requeue();
  const retryChecks = jobs
    ? setInterval(() => {
        requeue(LAYER_CHECK_RETRY).catch((err: unknown) => log(`berth: queueing failed layer checks again: ${(err as Error).message}`));
      }, LAYER_CHECK_RETRY.endedMsAgo / 2).unref()
    : undefined;
  // Pulls and pushes stream on their own thread: started now, so the first one does not wait for it.
  if (jobs) void warmTransferThread();
  return {
    services,
    databaseUrl: database.url,
    async stop() {
      clearInterval(retryChecks);
      await jobs?.stop();
      await announcements.close();
      await blobClusterLock.close();
      await db.$disconnect();
      await database.stop();
    },
  };
}
