import { Badge, Table, TBody, Td, Th, THead, Tr } from "~/components/ui";
import { formatDateTime, formatRelative, shortId } from "~/lib/format";
import type { AuditEvent } from "~/lib/models";

function resultTone(result: AuditEvent["result"]) {
  if (result === "ok") return "success" as const;
  if (result === "denied") return "warning" as const;
  return "danger" as const;
}

function targetLabel(t: AuditEvent["targets"][number]) {
  const ref = t.ref.startsWith("sha256:") ? shortId(t.ref) : t.ref;
  const before = t.digestBefore ? shortId(t.digestBefore) : "";
  const after = t.digestAfter ? shortId(t.digestAfter) : "";
  const change = before || after ? ` (${before || "∅"} → ${after || "∅"})` : "";
  return `${ref}${change}`;
}

export function AuditTable({ events, compact = false }: { events: AuditEvent[]; compact?: boolean }) {
  return (
    <Table data-testid="audit-table">
      <THead>
        <tr>
          <Th>When</Th>
          <Th>User</Th>
          <Th>Action</Th>
          <Th>Result</Th>
          <Th>Targets</Th>
          {compact ? null : <Th>Via</Th>}
        </tr>
      </THead>
      <TBody>
        {events.map((e) => (
          <Tr key={e.id} data-testid="audit-row" data-action={e.action} data-actor={e.actorName}>
            <Td className="whitespace-nowrap" title={formatDateTime(e.at)}>
              {formatRelative(e.at)}
            </Td>
            <Td data-testid="audit-actor" className="font-medium">
              {e.actorName || "—"}
            </Td>
            <Td>
              <code className="font-mono text-xs">{e.action}</code>
            </Td>
            <Td>
              <Badge tone={resultTone(e.result)}>{e.result}</Badge>
              {e.error ? <div className="mt-1 max-w-xs text-xs break-words text-rose-700 dark:text-rose-300">{e.error}</div> : null}
            </Td>
            <Td className="max-w-md">
              {e.targets.length === 0 ? (
                <span className="text-slate-400">—</span>
              ) : (
                <ul className="space-y-0.5 font-mono text-xs">
                  {e.targets.slice(0, 6).map((t, i) => (
                    <li key={i} className="truncate" title={`${t.ref} ${t.digestBefore} → ${t.digestAfter}`}>
                      {targetLabel(t)}
                    </li>
                  ))}
                  {e.targets.length > 6 ? <li className="text-slate-400">+{e.targets.length - 6} more</li> : null}
                </ul>
              )}
            </Td>
            {compact ? null : (
              <Td className="text-xs whitespace-nowrap text-slate-500 dark:text-slate-400" title={e.userAgent ?? ""}>
                {[e.interface, e.ip].filter(Boolean).join(" · ") || "—"}
              </Td>
            )}
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}
