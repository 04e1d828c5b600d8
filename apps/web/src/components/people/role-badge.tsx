import { Badge } from "~/components/ui";
import { roleHelp, type Role } from "~/lib/people";

const TONE = { viewer: "neutral", developer: "success", maintainer: "info", admin: "warning" } as const satisfies Record<Role, string>;

export function RoleBadge({ role, namespace }: { role: Role; namespace?: string }) {
  return (
    <span title={roleHelp(role)} data-testid={namespace ? "grant-badge" : "role-badge"} data-namespace={namespace}>
      <Badge tone={TONE[role]}>{namespace ? `${namespace}: ${role}` : role}</Badge>
    </span>
  );
}
