"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { PasswordCard } from "~/components/account/password-card";
import { PersonalTokenForm } from "~/components/account/personal-token-form";
import { RobotTokenForm } from "~/components/account/robot-token-form";
import { TokenCreatedDialog, type CreatedToken } from "~/components/account/token-created-dialog";
import { TokenTable } from "~/components/account/token-table";
import { usePermissions } from "~/components/account/use-permissions";
import { PageHeader } from "~/components/shell/app-shell";
import { Button, Checkbox, Dialog, EmptyState, ErrorState, TableSkeleton } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import type { TokenRow } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

export default function TokensPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const permissions = usePermissions();
  const isAdmin = permissions.known && permissions.can("users");
  const [everybody, setEverybody] = useState(false);
  const all = isAdmin && everybody;
  const list = useQuery(trpc.tokens.list.queryOptions({ all }));
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<TokenRow | null>(null);

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
  const onCreated = async (token: CreatedToken) => {
    setCreated(token);
    await invalidate();
  };
  const revoke = useMutation(
    trpc.tokens.revoke.mutationOptions({
      onSuccess: async () => {
        setRevoking(null);
        await invalidate();
      },
    }),
  );

  const rows = list.data ?? [];

  return (
    <>
      <PageHeader
        title="Tokens and password"
        description="Personal tokens act as you; robot tokens do only what their scope allows, and never more than you may."
      />

      <PersonalTokenForm onCreated={onCreated} />
      <RobotTokenForm onCreated={onCreated} />

      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-sm font-semibold">{all ? "Everybody's tokens" : "Your tokens"}</h2>
        {isAdmin ? (
          <Checkbox
            label="Show everybody's"
            checked={everybody}
            onChange={(e) => setEverybody(e.target.checked)}
            data-testid="tokens-all"
          />
        ) : null}
      </div>
      {list.isPending ? (
        <TableSkeleton rows={3} />
      ) : list.error ? (
        <ErrorState title="Could not list tokens" message={apiErrorMessage(list.error)} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No tokens yet">
          Create one above, or run <code>berth login</code> from the CLI.
        </EmptyState>
      ) : (
        <TokenTable tokens={rows} showOwner={all} onRevoke={setRevoking} />
      )}

      <TokenCreatedDialog created={created} onClose={() => setCreated(null)} />

      <Dialog
        open={revoking !== null}
        onClose={() => {
          setRevoking(null);
          revoke.reset();
        }}
        testId="token-revoke-dialog"
        title={`Revoke “${revoking?.name ?? ""}”?`}
        description="Anything using this token stops working immediately."
        footer={
          <>
            <Button onClick={() => setRevoking(null)}>Cancel</Button>
            <Button
              variant="danger"
              loading={revoke.isPending}
              data-testid="token-revoke-confirm"
              onClick={() => revoking && revoke.mutate({ id: revoking.id })}
            >
              Revoke
            </Button>
          </>
        }
      >
        {revoke.error ? <ErrorState title="Could not revoke" message={apiErrorMessage(revoke.error)} /> : null}
      </Dialog>
      <div className="mt-8">
        <PasswordCard />
      </div>
    </>
  );
}
