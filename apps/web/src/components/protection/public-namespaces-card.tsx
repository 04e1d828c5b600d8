"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Guarded } from "~/components/account/guarded";
import { Button, Card, CardHeader, ErrorState, Field, Input, Table, TBody, Td, Th, THead, Tr, ActionsTh } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import { errorMessage, formatDateTime, formatRelative } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

/**
 * Namespaces anyone may pull from through Berth's registry (`docker pull` without `docker login`).
 * Everyone signed in sees the list; only an admin adds or removes, others get the "Why?".
 */
export function PublicNamespacesCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.publicNamespaces.list.queryOptions());
  const [namespace, setNamespace] = useState("");
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.publicNamespaces.list.queryKey() });
  const add = useMutation(
    trpc.publicNamespaces.add.mutationOptions({
      onSuccess: async () => {
        setNamespace("");
        await refresh();
      },
    }),
  );
  const remove = useMutation(trpc.publicNamespaces.remove.mutationOptions({ onSuccess: refresh }));

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (namespace.trim()) add.mutate({ namespace: namespace.trim() });
  }

  return (
    <Card className="mt-6" data-testid="public-namespaces">
      <CardHeader
        title="Public namespaces"
        description="Anyone may pull the images of these namespaces from Berth's registry without signing in. Pushing and removing still need the role for it."
      />
      <Guarded action="public-namespaces">
        {(ok) => (
          <form onSubmit={onSubmit} className="mb-3 grid items-end gap-3 sm:grid-cols-[1fr_auto]" aria-label="Make a namespace public">
            <Field label="Namespace">
              {(id) => (
                <Input
                  id={id}
                  placeholder="team-a  (or library for docker.io official images)"
                  value={namespace}
                  disabled={!ok}
                  onChange={(e) => setNamespace(e.target.value)}
                  data-testid="public-namespace-input"
                />
              )}
            </Field>
            <Button
              type="submit"
              variant="primary"
              loading={add.isPending}
              disabled={!ok || !namespace.trim()}
              data-testid="public-namespace-add"
            >
              Make public
            </Button>
          </form>
        )}
      </Guarded>
      {add.error ? <ErrorState className="mb-3" title="Not made public" message={apiErrorMessage(add.error)} /> : null}
      {remove.error ? <ErrorState className="mb-3" title="Not made private" message={apiErrorMessage(remove.error)} /> : null}
      {list.isPending ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">Loading…</p>
      ) : list.error ? (
        <ErrorState title="Could not list public namespaces" message={errorMessage(list.error)} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400" data-testid="public-namespaces-empty">
          No namespace is public: pulling from Berth needs signing in.
        </p>
      ) : (
        <Table data-testid="public-namespaces-table">
          <THead>
            <tr>
              <Th>Namespace</Th>
              <Th>Made public by</Th>
              <Th>Since</Th>
              <ActionsTh />
            </tr>
          </THead>
          <TBody>
            {list.data.map((p) => (
              <Tr key={p.namespace} data-testid="public-namespace" data-namespace={p.namespace}>
                <Td className="font-medium">{p.namespace}</Td>
                <Td>{p.setBy}</Td>
                <Td title={formatDateTime(p.setAt)}>{formatRelative(p.setAt)}</Td>
                <Td className="text-right">
                  <Guarded action="public-namespaces">
                    {(ok) => (
                      <Button
                        size="sm"
                        variant="danger"
                        disabled={!ok || remove.isPending}
                        onClick={() => remove.mutate({ namespace: p.namespace })}
                        data-testid="public-namespace-remove"
                      >
                        Make private
                      </Button>
                    )}
                  </Guarded>
                </Td>
              </Tr>
            ))}
          </TBody>
        </Table>
      )}
    </Card>
  );
}
