// Offline verification of audit archives, without the database client: `berth audit verify --archive`.
export { verifyAuditArchive, type AuditArchiveVerification } from "@berth/db/audit-archive";
