"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, Card, CardHeader, ErrorState, Field, Input } from "~/components/ui";
import { useTRPC } from "~/trpc/react";
import { registryErrorMessage } from "./types";

/** Adds a registry (no mirrors yet): its card then takes mirrors, settings and credentials. */
export function AddRegistryForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [domain, setDomain] = useState("");
  const add = useMutation(
    trpc.registries.save.mutationOptions({
      onSuccess: async () => {
        setDomain("");
        await queryClient.invalidateQueries({ queryKey: trpc.registries.list.queryKey() });
      },
    }),
  );
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!domain.trim()) return;
    add.mutate({ domain: domain.trim(), mirrors: [], insecure: false, mirrorsOnly: false, ca: null });
  }
  return (
    <Card className="mb-4">
      <CardHeader title="Add a registry" description="As it appears in image references: ghcr.io, registry.example.com:5000." />
      <form onSubmit={onSubmit} className="flex items-end gap-2" aria-label="Add a registry">
        <Field label="Registry" className="flex-1">
          {(id) => (
            <Input
              id={id}
              placeholder="registry.example.com"
              value={domain}
              onChange={(e) => setDomain(e.target.value)}
              data-testid="add-registry-domain"
            />
          )}
        </Field>
        <Button type="submit" variant="primary" loading={add.isPending} disabled={!domain.trim()} data-testid="add-registry-submit">
          Add
        </Button>
      </form>
      {add.error ? <ErrorState className="mt-3" title="Not added" message={registryErrorMessage(add.error)} /> : null}
    </Card>
  );
}
