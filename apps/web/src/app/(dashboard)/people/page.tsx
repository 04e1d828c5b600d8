"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { usePermissions } from "~/components/account/use-permissions";
import { WhyNot } from "~/components/account/why-not";
import { AccessDialog } from "~/components/people/access-dialog";
import { DisableDialog } from "~/components/people/disable-dialog";
import { InviteDialog } from "~/components/people/invite-dialog";
import { InvitesTable } from "~/components/people/invites-table";
import { ResetPasswordDialog } from "~/components/people/reset-password-dialog";
import { UsersTable, type UserAction } from "~/components/people/users-table";
import { PageHeader } from "~/components/shell/app-shell";
import { Button, EmptyState, ErrorState, TableSkeleton } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import type { UserRow } from "~/lib/people";
import { useTRPC } from "~/trpc/react";

/** Admins invite people, set their roles and grants, reset passwords and disable accounts. */
export default function PeoplePage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const permissions = usePermissions();
  const allowed = permissions.known && permissions.can("users");
  const users = useQuery(trpc.users.list.queryOptions(undefined, { enabled: allowed }));
  const invites = useQuery(trpc.users.invites.queryOptions(undefined, { enabled: allowed }));
  const [inviteOpen, setInviteOpen] = useState(false);
  // The person a dialog is open for, by name: the dialog shows the latest row after each change.
  const [open, setOpen] = useState<{ action: Exclude<UserAction, "enable">; username: string } | null>(null);
  const enable = useMutation(
    trpc.users.enable.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() }) }),
  );

  const rows = users.data ?? [];
  const target = open ? (rows.find((u) => u.username === open.username) ?? null) : null;
  const dialogUser = (action: Exclude<UserAction, "enable">): UserRow | null => (open?.action === action ? target : null);
  const close = () => setOpen(null);

  function onAction(action: UserAction, user: UserRow) {
    if (action === "enable") enable.mutate({ username: user.username });
    else setOpen({ action, username: user.username });
  }

  if (permissions.known && !allowed) {
    return (
      <>
        <PageHeader title="People" />
        <EmptyState title="Only an admin manages people">
          <WhyNot action="users" />
        </EmptyState>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="People"
        description="Everyone's default role counts in every namespace; a grant raises it in one namespace (team-a for team-a/app)."
        actions={
          <Button variant="primary" onClick={() => setInviteOpen(true)} data-testid="invite-open">
            Invite…
          </Button>
        }
      />

      {enable.error ? <ErrorState className="mb-3" title="Not enabled" message={apiErrorMessage(enable.error)} /> : null}
      {users.isPending ? (
        <TableSkeleton rows={3} />
      ) : users.error ? (
        <ErrorState title="Could not list people" message={apiErrorMessage(users.error)} onRetry={() => void users.refetch()} />
      ) : (
        <UsersTable users={rows} me={permissions.me?.username} onAction={onAction} />
      )}

      <section className="mt-8" aria-labelledby="invites-heading">
        <h2 id="invites-heading" className="mb-2 text-sm font-semibold">
          Invitations
        </h2>
        {invites.isPending ? (
          <TableSkeleton rows={2} />
        ) : invites.error ? (
          <ErrorState title="Could not list invitations" message={apiErrorMessage(invites.error)} onRetry={() => void invites.refetch()} />
        ) : invites.data.length === 0 ? (
          <EmptyState title="No invitations yet">Invite someone: they get a one-time link to create their account.</EmptyState>
        ) : (
          <InvitesTable invites={invites.data} />
        )}
      </section>

      <InviteDialog open={inviteOpen} onClose={() => setInviteOpen(false)} />
      <AccessDialog user={dialogUser("access")} onClose={close} />
      <ResetPasswordDialog user={dialogUser("reset")} onClose={close} />
      <DisableDialog user={dialogUser("disable")} onClose={close} />
    </>
  );
}
