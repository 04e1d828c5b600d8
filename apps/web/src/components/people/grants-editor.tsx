"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, ErrorState, Field, Input, Table, TBody, Td, Th, THead, Tr, ActionsTh } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import { GRANT_ROLES, type GrantRole, type UserRow } from "~/lib/people";
import { useTRPC } from "~/trpc/react";
import { RoleSelect } from "./role-select";

/** One person's roles per namespace, on top of their default role: change, remove, add. */
export function GrantsEditor({ user }: { user: UserRow }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [namespace, setNamespace] = useState("");
  const [role, setRole] = useState<GrantRole>("developer");
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() });
  const setGrant = useMutation(trpc.users.setGrant.mutationOptions({ onSuccess: refresh }));
  const removeGrant = useMutation(trpc.users.removeGrant.mutationOptions({ onSuccess: refresh }));
  const error = setGrant.error ?? removeGrant.error;

  function onAdd(e: FormEvent) {
    e.preventDefault();
    const ns = namespace.trim();
    if (!ns) return;
    setGrant.mutate({ username: user.username, namespace: ns, role }, { onSuccess: () => setNamespace("") });
  }

  return (
    <div className="space-y-3" data-testid="grants-editor">
      {user.grants.length === 0 ? (
        <p className="text-slate-500 dark:text-slate-400">
          No grants: {user.username} is {user.role} in every namespace.
        </p>
      ) : (
        <Table>
          <THead>
            <tr>
              <Th>Namespace</Th>
              <Th>Role there</Th>
              <ActionsTh />
            </tr>
          </THead>
          <TBody>
            {user.grants.map((g) => (
              <Tr key={g.namespace} data-testid="grant-row" data-namespace={g.namespace}>
                <Td className="font-mono text-xs">{g.namespace}/*</Td>
                <Td>
                  <RoleSelect
                    roles={GRANT_ROLES}
                    value={g.role}
                    aria-label={`Role of ${user.username} in ${g.namespace}`}
                    className="h-8"
                    disabled={setGrant.isPending}
                    onChange={(next) => setGrant.mutate({ username: user.username, namespace: g.namespace, role: next })}
                  />
                </Td>
                <Td className="text-right">
                  <Button
                    size="sm"
                    variant="danger"
                    loading={removeGrant.isPending && removeGrant.variables?.namespace === g.namespace}
                    onClick={() => removeGrant.mutate({ username: user.username, namespace: g.namespace })}
                    data-testid="grant-remove"
                  >
                    Remove
                  </Button>
                </Td>
              </Tr>
            ))}
          </TBody>
        </Table>
      )}
      <form
        onSubmit={onAdd}
        className="grid items-end gap-2 sm:grid-cols-[1fr_1fr_auto]"
        aria-label={`Grant ${user.username} a role in a namespace`}
      >
        <Field label="Namespace" hint="The first path component: team-a for team-a/app">
          {(id) => (
            <Input
              id={id}
              placeholder="team-a"
              value={namespace}
              onChange={(e) => setNamespace(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              data-testid="grant-namespace"
            />
          )}
        </Field>
        <Field label="Role there">
          {(id) => <RoleSelect id={id} roles={GRANT_ROLES} value={role} onChange={setRole} data-testid="grant-role" />}
        </Field>
        <Button type="submit" variant="primary" loading={setGrant.isPending} disabled={!namespace.trim()} data-testid="grant-add">
          Grant
        </Button>
      </form>
      {error ? <ErrorState title="Grant not changed" message={apiErrorMessage(error)} /> : null}
    </div>
  );
}
