"use client";

import { useQuery } from "@tanstack/react-query";
import { usePermissions } from "~/components/account/use-permissions";
import { WhyNot } from "~/components/account/why-not";
import { AddRegistryForm } from "~/components/registries/add-registry-form";
import { MachineConfig } from "~/components/registries/machine-config";
import { RegistryCard } from "~/components/registries/registry-card";
import { registryErrorMessage } from "~/components/registries/types";
import { PageHeader } from "~/components/shell/app-shell";
import { ErrorState, TableSkeleton } from "~/components/ui";
import { useTRPC } from "~/trpc/react";

/** The team's shared registry configuration: mirrors, insecure registries, CA bundles and credentials. */
export default function RegistriesPage() {
  const trpc = useTRPC();
  const permissions = usePermissions();
  const list = useQuery(trpc.registries.list.queryOptions(undefined, { refetchInterval: 10_000 }));
  // Editing shows only once the server has said so: a flash of admin forms would mislead.
  const isAdmin = permissions.known && permissions.can("registries");

  return (
    <>
      <PageHeader
        title="Registries"
        description={
          isAdmin ? (
            "Mirrors, insecure registries, CA bundles and credentials used by every pull on this server."
          ) : (
            <>
              Mirrors, insecure registries, CA bundles and credentials used by every pull. Only an admin can change them.{" "}
              {permissions.known ? <WhyNot action="registries" /> : null}
            </>
          )
        }
      />
      {list.isPending ? (
        <TableSkeleton rows={3} />
      ) : list.error ? (
        <ErrorState title="Could not list registries" message={registryErrorMessage(list.error)} onRetry={() => void list.refetch()} />
      ) : (
        <div data-testid="registries">
          {list.data.map((registry) => (
            <RegistryCard key={registry.domain} registry={registry} editable={isAdmin} />
          ))}
        </div>
      )}
      {isAdmin ? <AddRegistryForm /> : null}
      <MachineConfig />
    </>
  );
}
