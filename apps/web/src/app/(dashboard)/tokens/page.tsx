"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { PasswordCard } from "~/components/account/password-card";
import { PageHeader } from "~/components/shell/app-shell";
import {
  Badge,
  Button,
  Card,
  CardHeader,
  CopyButton,
  Dialog,
  EmptyState,
  ErrorState,
  Field,
  Input,
  Table,
  TableSkeleton,
  TBody,
  Td,
  Th,
  THead,
  Tr,
} from "~/components/ui";
import { errorMessage, formatDateTime, formatRelative } from "~/lib/format";
import type { TokenRow } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

function status(t: TokenRow): { label: string; tone: "success" | "danger" | "warning" } {
  if (t.revokedAt) return { label: "revoked", tone: "danger" };
  if (t.expiresAt && t.expiresAt.getTime() < Date.now()) return { label: "expired", tone: "warning" };
  return { label: "active", tone: "success" };
}

export default function TokensPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.tokens.list.queryOptions());
  const [name, setName] = useState("");
  const [days, setDays] = useState("");
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = useState<TokenRow | null>(null);

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: async (data) => {
        setCreated({ name: data.name, token: data.token });
        setName("");
        setDays("");
        await invalidate();
      },
    }),
  );
  const revoke = useMutation(
    trpc.tokens.revoke.mutationOptions({
      onSuccess: async () => {
        setRevoking(null);
        await invalidate();
      },
    }),
  );

  const rows = list.data ?? [];
  const daysNumber = days.trim() ? Number(days) : undefined;
  const daysInvalid = daysNumber !== undefined && (!Number.isInteger(daysNumber) || daysNumber <= 0 || daysNumber > 3650);

  function onCreate(e: FormEvent) {
    e.preventDefault();
    if (!name.trim() || daysInvalid) return;
    create.mutate({ name: name.trim(), expiresInDays: daysNumber });
  }

  return (
    <>
      <PageHeader
        title="Tokens and password"
        description="Personal tokens for the CLI and scripts (a token acts as you), and your password."
      />

      <Card className="mb-4">
        <CardHeader title="Create a token" />
        <form onSubmit={onCreate} className="grid items-end gap-3 sm:grid-cols-[1fr_12rem_auto]" aria-label="Create a token">
          <Field label="Name">
            {(id) => (
              <Input
                id={id}
                required
                placeholder="ci-runner"
                value={name}
                maxLength={100}
                onChange={(e) => setName(e.target.value)}
                data-testid="token-name"
              />
            )}
          </Field>
          <Field label="Expires after (days, optional)">
            {(id) => (
              <Input
                id={id}
                type="number"
                min={1}
                max={3650}
                placeholder="never"
                value={days}
                onChange={(e) => setDays(e.target.value)}
                aria-invalid={daysInvalid}
                data-testid="token-days"
              />
            )}
          </Field>
          <Button
            type="submit"
            variant="primary"
            loading={create.isPending}
            disabled={!name.trim() || daysInvalid}
            data-testid="token-create"
          >
            Create token
          </Button>
        </form>
        {daysInvalid ? <p className="mt-2 text-xs text-rose-600">Expiry must be a whole number of days from 1 to 3650.</p> : null}
        {create.error ? <ErrorState className="mt-3" title="Could not create the token" message={errorMessage(create.error)} /> : null}
      </Card>

      {list.isPending ? (
        <TableSkeleton rows={3} />
      ) : list.error ? (
        <ErrorState title="Could not list tokens" message={errorMessage(list.error)} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No tokens yet">
          Create one above, or run <code>berth login</code> from the CLI.
        </EmptyState>
      ) : (
        <Table data-testid="tokens-table">
          <THead>
            <tr>
              <Th>Name</Th>
              <Th>Prefix</Th>
              <Th>Created</Th>
              <Th>Last used</Th>
              <Th>Expires</Th>
              <Th>Status</Th>
              <Th className="text-right">
                <span className="sr-only">Actions</span>
              </Th>
            </tr>
          </THead>
          <TBody>
            {rows.map((t) => {
              const s = status(t);
              return (
                <Tr key={t.id} data-testid="token-row">
                  <Td className="font-medium">{t.name}</Td>
                  <Td className="font-mono text-xs">{t.tokenPrefix ? `${t.tokenPrefix}…` : "—"}</Td>
                  <Td title={formatDateTime(t.createdAt)}>{formatRelative(t.createdAt)}</Td>
                  <Td title={formatDateTime(t.lastUsedAt)}>{t.lastUsedAt ? formatRelative(t.lastUsedAt) : "never"}</Td>
                  <Td title={formatDateTime(t.expiresAt)}>{t.expiresAt ? formatRelative(t.expiresAt) : "never"}</Td>
                  <Td>
                    <Badge tone={s.tone}>{s.label}</Badge>
                  </Td>
                  <Td className="text-right">
                    {t.revokedAt ? null : (
                      <Button size="sm" variant="danger" onClick={() => setRevoking(t)} data-testid="token-revoke">
                        Revoke
                      </Button>
                    )}
                  </Td>
                </Tr>
              );
            })}
          </TBody>
        </Table>
      )}

      <Dialog
        open={created !== null}
        onClose={() => setCreated(null)}
        testId="token-created"
        title={`Token “${created?.name ?? ""}” created`}
        description="Copy it now: Berth stores only a hash and cannot show it again."
        footer={
          <Button variant="primary" onClick={() => setCreated(null)}>
            I have copied it
          </Button>
        }
      >
        {created ? (
          <div className="flex items-center gap-2">
            <code
              data-testid="token-secret"
              className="min-w-0 flex-1 rounded-md bg-slate-100 px-2 py-2 font-mono text-xs break-all dark:bg-slate-800"
            >
              {created.token}
            </code>
            <CopyButton text={created.token} />
          </div>
        ) : null}
      </Dialog>

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
        {revoke.error ? <ErrorState title="Could not revoke" message={errorMessage(revoke.error)} /> : null}
      </Dialog>
      <div className="mt-8">
        <PasswordCard />
      </div>
    </>
  );
}
