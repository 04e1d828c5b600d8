"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Badge, Button, ErrorState, Table, TBody, Td, Th, THead, Tr, ActionsTh } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import { formatDateTime, formatRelative } from "~/lib/format";
import type { InviteRow } from "~/lib/people";
import { useTRPC } from "~/trpc/react";
import { RoleBadge } from "./role-badge";

const STATE_TONE = { pending: "info", used: "success", expired: "neutral" } as const satisfies Record<InviteRow["state"], string>;

/** Invitations, newest first: who they are for, what became of them; pending ones can be withdrawn. */
export function InvitesTable({ invites }: { invites: InviteRow[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const revoke = useMutation(
    trpc.users.revokeInvite.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.users.invites.queryKey() }),
    }),
  );

  return (
    <>
      {revoke.error ? <ErrorState className="mb-3" title="Invitation not revoked" message={apiErrorMessage(revoke.error)} /> : null}
      <Table data-testid="invites-table">
        <THead>
          <tr>
            <Th>For</Th>
            <Th>Role</Th>
            <Th>Invited by</Th>
            <Th>Created</Th>
            <Th>Expires</Th>
            <Th>State</Th>
            <ActionsTh />
          </tr>
        </THead>
        <TBody>
          {invites.map((i) => (
            <Tr key={i.id} data-testid="invite-row" data-state={i.state} data-username={i.username ?? ""}>
              <Td>
                <span className="font-medium">{i.username ?? <span className="text-slate-500">any username</span>}</span>
                {i.email ? <div className="text-xs text-slate-500 dark:text-slate-400">{i.email}</div> : null}
              </Td>
              <Td>
                <RoleBadge role={i.role} />
              </Td>
              <Td>{i.createdBy}</Td>
              <Td className="whitespace-nowrap" title={formatDateTime(i.createdAt)}>
                {formatRelative(i.createdAt)}
              </Td>
              <Td className="whitespace-nowrap" title={formatDateTime(i.expiresAt)}>
                {i.state === "used" ? "—" : formatRelative(i.expiresAt)}
              </Td>
              <Td>
                <Badge tone={STATE_TONE[i.state]}>{i.state === "used" && i.usedBy ? `joined as ${i.usedBy}` : i.state}</Badge>
              </Td>
              <Td className="text-right">
                {i.state === "pending" ? (
                  <Button
                    size="sm"
                    variant="danger"
                    loading={revoke.isPending && revoke.variables?.id === i.id}
                    onClick={() => revoke.mutate({ id: i.id })}
                    data-testid="invite-revoke"
                  >
                    Revoke
                  </Button>
                ) : null}
              </Td>
            </Tr>
          ))}
        </TBody>
      </Table>
    </>
  );
}
