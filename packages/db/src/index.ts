// Public surface of @berth/db: the Prisma client, migrations, the embedded server, the engine's
// MetadataStore over PostgreSQL and the audit log.
export { createPrismaClient } from "./client";
export type { Database, DbClient, PrismaClient, Transaction, TransactionClient } from "./client";
export { applyMigrations, MigrationError } from "./migrate";
export type { ApplyMigrationsOptions, ApplyMigrationsResult } from "./migrate";
export { resolveDatabase, startEmbeddedPostgres } from "./postgres";
export type { EmbeddedPostgresHandle, ResolveDatabaseOptions, StartEmbeddedPostgresOptions } from "./postgres";
export { AWAITING_MANIFEST_HOURS, PrismaMetadataStore } from "./metadata-store";
export { CachedMetadataReads } from "./cached-reads";
export { appendAuditEvent, verifyAuditChain } from "./audit";
export type { AuditChainVerification, AuditEvent, AuditEventInput, AuditInterface, AuditResult, AuditTarget } from "./audit";
export { listAuditEvents, listAuditEventsNaming } from "./audit-search";
export type { AuditPage, ListAuditEventsOptions } from "./audit-search";
export { AUDIT_RESULTS, DIGEST_PREFIX_MIN, listAuditActions } from "./audit-filter";
export type { AuditFilter } from "./audit-filter";
export { eventTerms, namespaceOf, referenceTerms } from "./audit-terms";
export type { AuditTerm, AuditTermKind } from "./audit-terms";
export { auditIdRange } from "./audit-range";
export { auditArchiveLines, freezeAuditRange } from "./audit-archive-source";
export type { AuditArchiveLine, FrozenAuditRange } from "./audit-archive-source";
export { auditCanonical, auditHash, canonicalTime, CANONICAL_FIELDS } from "./audit-canonical";
export type { CanonicalAuditFields } from "./audit-canonical";
export { verifyAuditArchive, ARCHIVE_FIELDS } from "./audit-archive";
export type { AuditArchiveVerification } from "./audit-archive";
export { cancelJob, claimNextJob, enqueueJob, finishJob, getJob, listJobs, releaseJob, requeueStaleJobs, updateJobProgress } from "./jobs";
export { listenJobChanges } from "./job-notifications";
export { openAdvisoryLock } from "./advisory-lock";
export { findPrincipal } from "./principals";
export type { Principal, PrincipalKey, PrincipalSession, PrincipalToken, PrincipalUser } from "./principals";
export type { AdvisoryLock } from "./advisory-lock";
export type { JobNotifications, ListenJobChangesOptions } from "./job-notifications";
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
