"use client";

import { usePermissions } from "~/components/account/use-permissions";
import { buttonClasses } from "~/components/ui";

/**
 * Admins: export-and-archive the events of the chosen time range as a JSON Lines file that
 * `berth audit verify --archive FILE` checks offline. A form POST: the server streams the file
 * and records an `audit.archive` event with its sha256 (the events stay in the log).
 */
export function ArchiveRange({ from, to }: { from: string; to: string }) {
  const { can } = usePermissions();
  if (!can("audit-archive")) return null;
  const params = new URLSearchParams();
  if (from) params.set("from", from);
  if (to) params.set("to", to);
  const range = from || to ? "the From–To range" : "the whole log";
  return (
    <form method="post" action={`/api/audit/archive?${params.toString()}`} className="contents">
      <button
        type="submit"
        className={buttonClasses("secondary")}
        title={`Download ${range} as a verifiable archive; the archive is itself recorded in the audit log`}
        data-testid="audit-archive"
      >
        Archive range
      </button>
    </form>
  );
}
