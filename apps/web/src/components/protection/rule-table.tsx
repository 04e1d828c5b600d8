"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { RouterOutputs } from "@berth/api";
import { Button, Dialog, ErrorState, Table, TBody, Td, Th, THead, Tr, ActionsTh } from "~/components/ui";
import { errorMessage, formatDateTime, formatRelative } from "~/lib/format";
import { useTRPC } from "~/trpc/react";
import { ShieldIcon } from "./shield-icon";

type Rule = RouterOutputs["protection"]["rules"][number];

/** The rules, with Remove for those the caller may remove (after a confirmation). */
export function RuleTable({ rules }: { rules: Rule[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [removing, setRemoving] = useState<Rule | null>(null);
  const remove = useMutation(
    trpc.protection.remove.mutationOptions({
      onSuccess: async () => {
        setRemoving(null);
        await queryClient.invalidateQueries({ queryKey: trpc.protection.rules.queryKey() });
      },
    }),
  );

  return (
    <>
      <Table data-testid="protection-rules">
        <THead>
          <tr>
            <Th>Namespace</Th>
            <Th>Pattern</Th>
            <Th>Protects</Th>
            <Th>Added by</Th>
            <Th>Added</Th>
            <ActionsTh />
          </tr>
        </THead>
        <TBody>
          {rules.map((r) => (
            <Tr key={r.id} data-testid="protection-rule" data-rule={`${r.namespace} ${r.pattern}`}>
              <Td className="font-medium">{r.namespace}</Td>
              <Td className="font-mono text-xs">
                <span className="inline-flex items-center gap-1">
                  <ShieldIcon className="size-3.5 text-sky-600 dark:text-sky-400" />
                  {r.pattern}
                </span>
              </Td>
              <Td className="font-mono text-xs text-slate-500 dark:text-slate-400">
                {r.namespace}/*:{r.pattern}
              </Td>
              <Td>{r.createdBy}</Td>
              <Td title={formatDateTime(r.createdAt)}>{formatRelative(r.createdAt)}</Td>
              <Td className="text-right">
                {r.canRemove ? (
                  <Button size="sm" variant="danger" onClick={() => setRemoving(r)} data-testid="protection-remove">
                    Remove
                  </Button>
                ) : null}
              </Td>
            </Tr>
          ))}
        </TBody>
      </Table>
      <Dialog
        open={removing !== null}
        onClose={() => {
          setRemoving(null);
          remove.reset();
        }}
        testId="protection-remove-dialog"
        title={`Stop protecting “${removing?.pattern ?? ""}” in ${removing?.namespace ?? ""}?`}
        description="Developers and maintainers will be able to move and remove these tags again."
        footer={
          <>
            <Button onClick={() => setRemoving(null)}>Cancel</Button>
            <Button
              variant="danger"
              loading={remove.isPending}
              data-testid="protection-remove-confirm"
              onClick={() => removing && remove.mutate({ namespace: removing.namespace, pattern: removing.pattern })}
            >
              Remove rule
            </Button>
          </>
        }
      >
        {remove.error ? <ErrorState title="Could not remove" message={errorMessage(remove.error)} /> : null}
      </Dialog>
    </>
  );
}
