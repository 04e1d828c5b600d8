"use client";

import { useQuery } from "@tanstack/react-query";
import { AddRuleForm } from "~/components/protection/add-rule-form";
import { PublicNamespacesCard } from "~/components/protection/public-namespaces-card";
import { RuleTable } from "~/components/protection/rule-table";
import { PageHeader } from "~/components/shell/app-shell";
import { EmptyState, ErrorState, TableSkeleton } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

/** Tag protection rules (matching tags are moved or removed only by an admin), and the namespaces anyone may pull from. */
export default function ProtectionPage() {
  const trpc = useTRPC();
  const rules = useQuery(trpc.protection.rules.queryOptions({}));

  return (
    <>
      <PageHeader
        title="Tag protection"
        description="A protected tag cannot be moved to another image or removed, except by an admin. Prune never removes tagged or pinned images."
      />
      <AddRuleForm />
      {rules.isPending ? (
        <TableSkeleton rows={3} />
      ) : rules.error ? (
        <ErrorState title="Could not list the rules" message={errorMessage(rules.error)} onRetry={() => void rules.refetch()} />
      ) : rules.data.length === 0 ? (
        <EmptyState title="No tags are protected">
          Add a rule such as <code className="font-mono">release-*</code> or <code className="font-mono">v*.*.*</code> for a namespace.
        </EmptyState>
      ) : (
        <RuleTable rules={rules.data} />
      )}
      <PublicNamespacesCard />
    </>
  );
}
