import type { SelectHTMLAttributes } from "react";
import { Select } from "~/components/ui";
import { roleHelp, type Role } from "~/lib/people";

/** A role picker whose options say what each role may do. */
export function RoleSelect<R extends Role>({
  roles,
  value,
  onChange,
  ...props
}: Omit<SelectHTMLAttributes<HTMLSelectElement>, "value" | "onChange"> & { roles: readonly R[]; value: R; onChange: (role: R) => void }) {
  return (
    <Select value={value} onChange={(e) => onChange(e.target.value as R)} {...props}>
      {roles.map((r) => (
        <option key={r} value={r}>
          {r} — {roleHelp(r)}
        </option>
      ))}
    </Select>
  );
}
