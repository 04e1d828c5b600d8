// Public surface of @berth/db: the Prisma client, migrations, the embedded server, the engine's
// MetadataStore over PostgreSQL and the audit log.
export { createPrismaClient } from "./client";
export type { Database, DbClient, PrismaClient, Transaction, TransactionClient } from "./client";
export { applyMigrations, MigrationError } from "./migrate";
export type { ApplyMigrationsOptions, ApplyMigrationsResult } from "./migrate";
export { resolveDatabase, startEmbeddedPostgres } from "./postgres";
export type { EmbeddedPostgresHandle, ResolveDatabaseOptions, StartEmbeddedPostgresOptions } from "./postgres";
export { PrismaMetadataStore } from "./metadata-store";
export { CachedMetadataReads } from "./cached-reads";
export { appendAuditEvent, listAuditEvents, verifyAuditChain } from "./audit";
export type {
  AuditChainVerification,
  AuditEvent,
  AuditEventInput,
  AuditInterface,
  AuditResult,
  AuditTarget,
  ListAuditEventsOptions,
} from "./audit";
export { cancelJob, claimNextJob, enqueueJob, finishJob, getJob, listJobs, releaseJob, requeueStaleJobs, updateJobProgress } from "./jobs";
export type { EnqueueJobInput, FinishJobInput, Job, JobKind, JobLayerProgress, JobProgress, JobState } from "./jobs";
export {
  clearRegistryCredentials,
  getRegistry,
  listRegistries,
  recordMirrorFailure,
  recordMirrorSuccess,
  removeRegistry,
  saveRegistry,
  setRegistryCredentials,
} from "./registries";
export type { RegistryConfig, RegistryMirrorState, SaveRegistryInput } from "./registries";
