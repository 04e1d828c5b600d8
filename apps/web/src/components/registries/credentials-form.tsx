"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, ErrorState, Field, Input } from "~/components/ui";
import { formatDateTime, formatRelative } from "~/lib/format";
import { useTRPC } from "~/trpc/react";
import { registryErrorMessage, type RegistryRow } from "./types";

/**
 * The team's login for one registry. The password goes to the server once and is never shown
 * again (the API does not return it); the page shows only who set it and when.
 */
export function CredentialsForm({ registry, editable }: { registry: RegistryRow; editable: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const invalidate = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.registries.list.queryKey() });
  };
  const login = useMutation(
    trpc.registries.login.mutationOptions({
      onSuccess: async () => {
        setPassword("");
        await invalidate();
      },
    }),
  );
  const logout = useMutation(trpc.registries.logout.mutationOptions({ onSuccess: invalidate }));

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!username.trim() || !password) return;
    login.mutate({ domain: registry.domain, username: username.trim(), password });
  }

  return (
    <div data-testid="registry-credentials">
      <h3 className="mb-2 text-sm font-medium text-slate-800 dark:text-slate-200">Credentials</h3>
      {registry.username ? (
        <div className="mb-3 flex flex-wrap items-center gap-3 text-sm">
          <span data-testid="credentials-set-by">
            Logged in as <span className="font-medium">{registry.username}</span>, set by {registry.credentialsSetBy ?? "?"}{" "}
            <span title={formatDateTime(registry.credentialsSetAt)}>{formatRelative(registry.credentialsSetAt)}</span>
          </span>
          {editable ? (
            <Button
              size="sm"
              variant="danger"
              loading={logout.isPending}
              onClick={() => logout.mutate({ domain: registry.domain })}
              data-testid="credentials-logout"
            >
              Log out
            </Button>
          ) : null}
        </div>
      ) : (
        <p className="mb-3 text-sm text-slate-500 dark:text-slate-400" data-testid="credentials-none">
          No credentials: pulls are anonymous.
        </p>
      )}
      {editable ? (
        <form onSubmit={onSubmit} className="grid items-end gap-3 sm:grid-cols-[1fr_1fr_auto]" aria-label={`Log in to ${registry.domain}`}>
          <Field label="Username">
            {(id) => (
              <Input
                id={id}
                autoComplete="off"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                data-testid="credentials-username"
              />
            )}
          </Field>
          <Field label="Password or token">
            {(id) => (
              <Input
                id={id}
                type="password"
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                data-testid="credentials-password"
              />
            )}
          </Field>
          <Button
            type="submit"
            variant="primary"
            loading={login.isPending}
            disabled={!username.trim() || !password}
            data-testid="credentials-login"
          >
            {registry.username ? "Replace" : "Log in"}
          </Button>
        </form>
      ) : null}
      {login.data?.warning ? (
        <p className="mt-2 text-xs text-amber-700 dark:text-amber-300" data-testid="credentials-warning">
          {login.data.warning}
        </p>
      ) : null}
      {login.error ? <ErrorState className="mt-3" title="Login refused" message={registryErrorMessage(login.error)} /> : null}
      {logout.error ? <ErrorState className="mt-3" title="Could not log out" message={registryErrorMessage(logout.error)} /> : null}
    </div>
  );
}
