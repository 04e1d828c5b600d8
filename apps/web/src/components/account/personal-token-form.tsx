"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, Card, CardHeader, ErrorState, Field, Input } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import { useTRPC } from "~/trpc/react";
import { ExpiryField, parseExpiryDays } from "./expiry-field";
import type { CreatedToken } from "./token-created-dialog";

/** A personal token: it acts as you, with everything you may do. */
export function PersonalTokenForm({ onCreated }: { onCreated: (token: CreatedToken) => Promise<void> }) {
  const trpc = useTRPC();
  const [name, setName] = useState("");
  const [days, setDays] = useState("");
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: async (data) => {
        setName("");
        setDays("");
        await onCreated({ name: data.name, token: data.token, kind: "personal", warnings: [] });
      },
    }),
  );
  const expiry = parseExpiryDays(days);

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim() || expiry.invalid) return;
    create.mutate({ name: name.trim(), expiresInDays: expiry.days });
  }

  return (
    <Card className="mb-4">
      <CardHeader title="Create a personal token" description="For the CLI and your scripts: it acts as you, with everything you may do." />
      <form onSubmit={onSubmit} className="grid items-end gap-3 sm:grid-cols-[1fr_12rem_auto]" aria-label="Create a token">
        <Field label="Name">
          {(id) => (
            <Input
              id={id}
              required
              placeholder="laptop"
              value={name}
              maxLength={100}
              onChange={(e) => setName(e.target.value)}
              data-testid="token-name"
            />
          )}
        </Field>
        <ExpiryField value={days} onChange={setDays} invalid={expiry.invalid} testId="token-days" />
        <Button
          type="submit"
          variant="primary"
          loading={create.isPending}
          disabled={!name.trim() || expiry.invalid}
          data-testid="token-create"
        >
          Create token
        </Button>
      </form>
      {expiry.invalid ? <p className="mt-2 text-xs text-rose-600">Expiry must be a whole number of days from 1 to 3650.</p> : null}
      {create.error ? <ErrorState className="mt-3" title="Could not create the token" message={apiErrorMessage(create.error)} /> : null}
    </Card>
  );
}
