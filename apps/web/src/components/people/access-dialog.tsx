"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Button, Dialog, ErrorState } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import { ROLES, type Role, type UserRow } from "~/lib/people";
import { useTRPC } from "~/trpc/react";
import { GrantsEditor } from "./grants-editor";
import { RoleSelect } from "./role-select";

/** A person's default role (every namespace) and the grants that raise it in some namespaces. */
export function AccessDialog({ user, onClose }: { user: UserRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [role, setRole] = useState<Role>("viewer");
  const setUserRole = useMutation(
    trpc.users.setRole.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() }) }),
  );
  const { reset } = setUserRole;
  const username = user?.username;
  const savedRole = user?.role;

  useEffect(() => {
    if (savedRole) setRole(savedRole);
    reset();
  }, [username, savedRole, reset]);

  return (
    <Dialog
      open={user !== null}
      onClose={onClose}
      testId="access-dialog"
      title={`Role and grants of ${user?.username ?? ""}`}
      description="The default role counts in every namespace; a grant raises it in one namespace. Changes apply to their next request."
      footer={
        <Button variant="primary" onClick={onClose} data-testid="access-done">
          Done
        </Button>
      }
    >
      {user ? (
        <div className="space-y-6">
          <section aria-labelledby="access-role" className="space-y-2">
            <h3 id="access-role" className="font-medium">
              Default role
            </h3>
            <div className="flex items-center gap-2">
              <RoleSelect roles={ROLES} value={role} onChange={setRole} aria-label="Default role" data-testid="access-role" />
              <Button
                variant="primary"
                disabled={role === user.role}
                loading={setUserRole.isPending}
                onClick={() => setUserRole.mutate({ username: user.username, role })}
                data-testid="access-role-save"
              >
                Save role
              </Button>
            </div>
            {setUserRole.error ? <ErrorState title="Role not changed" message={apiErrorMessage(setUserRole.error)} /> : null}
          </section>
          <section aria-labelledby="access-grants" className="space-y-2">
            <h3 id="access-grants" className="font-medium">
              Grants per namespace
            </h3>
            <GrantsEditor user={user} />
          </section>
        </div>
      ) : null}
    </Dialog>
  );
}
