"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { registryErrorMessage } from "~/components/registries/types";
import { Button, Card, CardHeader, ErrorState, Field, Input } from "~/components/ui";
import { useTRPC } from "~/trpc/react";

/** Adds a rule; shown to people who may protect tags somewhere, otherwise it says why not. */
export function AddRuleForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const access = useQuery(trpc.protection.access.queryOptions());
  const [namespace, setNamespace] = useState("");
  const [pattern, setPattern] = useState("");
  const add = useMutation(
    trpc.protection.add.mutationOptions({
      onSuccess: async () => {
        setPattern("");
        await queryClient.invalidateQueries({ queryKey: trpc.protection.rules.queryKey() });
      },
    }),
  );

  if (!access.data) return null;
  if (!access.data.canAdd) {
    return (
      <p className="mb-4 text-sm text-slate-500 dark:text-slate-400" data-testid="protection-readonly">
        You can read these rules but not change them: {access.data.reason}. A maintainer of the namespace or an admin can.
      </p>
    );
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!namespace.trim() || !pattern.trim()) return;
    add.mutate({ namespace: namespace.trim(), pattern: pattern.trim() });
  }

  return (
    <Card className="mb-4">
      <CardHeader
        title="Protect tags"
        description="In a namespace (team-a for team-a/app), the tags matching a pattern: * is any run of characters, ? one character."
      />
      <form onSubmit={onSubmit} className="grid items-end gap-3 sm:grid-cols-[1fr_1fr_auto]" aria-label="Add a protection rule">
        <Field label="Namespace">
          {(id) => (
            <Input
              id={id}
              placeholder="team-a"
              value={namespace}
              onChange={(e) => setNamespace(e.target.value)}
              data-testid="protection-namespace"
            />
          )}
        </Field>
        <Field label="Tag pattern">
          {(id) => (
            <Input
              id={id}
              placeholder="release-*  or  v*.*.*"
              value={pattern}
              onChange={(e) => setPattern(e.target.value)}
              data-testid="protection-pattern"
            />
          )}
        </Field>
        <Button
          type="submit"
          variant="primary"
          loading={add.isPending}
          disabled={!namespace.trim() || !pattern.trim()}
          data-testid="protection-add"
        >
          Protect
        </Button>
      </form>
      {add.error ? <ErrorState className="mt-3" title="Not added" message={registryErrorMessage(add.error)} /> : null}
    </Card>
  );
}
