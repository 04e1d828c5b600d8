import { Badge, Button, Table, TBody, Td, Th, THead, Tr, ActionsTh } from "~/components/ui";
import { formatDateTime, formatRelative } from "~/lib/format";
import type { UserRow } from "~/lib/people";
import { RoleBadge } from "./role-badge";

export type UserAction = "access" | "reset" | "disable" | "enable";

/** Everybody with their default role, grants, state and last activity; actions per person. */
export function UsersTable({
  users,
  me,
  onAction,
}: {
  users: UserRow[];
  me: string | undefined;
  onAction: (action: UserAction, user: UserRow) => void;
}) {
  return (
    <Table data-testid="users-table">
      <THead>
        <tr>
          <Th>User</Th>
          <Th>Default role</Th>
          <Th>Grants</Th>
          <Th>State</Th>
          <Th>Last active</Th>
          <Th>Joined</Th>
          <ActionsTh />
        </tr>
      </THead>
      <TBody>
        {users.map((u) => (
          <Tr key={u.id} data-testid="user-row" data-username={u.username} className={u.disabledAt ? "opacity-70" : undefined}>
            <Td className="font-medium">
              {u.username}
              {u.username === me ? (
                <Badge tone="neutral" className="ml-2">
                  you
                </Badge>
              ) : null}
            </Td>
            <Td>
              <RoleBadge role={u.role} />
            </Td>
            <Td>
              {u.grants.length === 0 ? (
                <span className="text-slate-400">—</span>
              ) : (
                <div className="flex flex-wrap gap-1">
                  {u.grants.map((g) => (
                    <RoleBadge key={g.namespace} role={g.role} namespace={g.namespace} />
                  ))}
                </div>
              )}
            </Td>
            <Td>
              {u.disabledAt ? (
                <span title={`Disabled ${formatDateTime(u.disabledAt)}`}>
                  <Badge tone="danger">disabled</Badge>
                </span>
              ) : (
                <Badge tone="success">active</Badge>
              )}
            </Td>
            <Td className="whitespace-nowrap" title={formatDateTime(u.lastActiveAt)}>
              {u.lastActiveAt ? formatRelative(u.lastActiveAt) : "never"}
            </Td>
            <Td className="whitespace-nowrap" title={formatDateTime(u.createdAt)}>
              {formatRelative(u.createdAt)}
            </Td>
            <Td className="text-right">
              <div className="flex justify-end gap-1.5">
                <Button size="sm" onClick={() => onAction("access", u)} data-testid="user-access">
                  Role &amp; grants…
                </Button>
                <Button size="sm" onClick={() => onAction("reset", u)} data-testid="user-reset">
                  Reset password…
                </Button>
                {u.disabledAt ? (
                  <Button size="sm" onClick={() => onAction("enable", u)} data-testid="user-enable">
                    Enable
                  </Button>
                ) : (
                  <Button
                    size="sm"
                    variant="danger"
                    disabled={u.username === me}
                    title={u.username === me ? "You cannot disable your own account" : undefined}
                    onClick={() => onAction("disable", u)}
                    data-testid="user-disable"
                  >
                    Disable…
                  </Button>
                )}
              </div>
            </Td>
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}
