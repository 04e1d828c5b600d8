"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, Card, CardHeader, Checkbox, ErrorState, Field, Input } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import { ALL_NAMESPACES, parseNamespaces, ROBOT_ACTIONS, robotActionHelp, type RobotAction } from "~/lib/people";
import { useTRPC } from "~/trpc/react";
import { ExpiryField, parseExpiryDays } from "./expiry-field";
import type { CreatedToken } from "./token-created-dialog";

/**
 * A robot token for CI and automation: named, limited to some namespaces and actions, and
 * never able to do more than you can at the time it is used. The audit names it robot:<name>.
 */
export function RobotTokenForm({ onCreated }: { onCreated: (token: CreatedToken) => Promise<void> }) {
  const trpc = useTRPC();
  const [name, setName] = useState("");
  const [namespaces, setNamespaces] = useState("");
  const [everywhere, setEverywhere] = useState(false);
  const [actions, setActions] = useState<Set<RobotAction>>(new Set(["read", "pull"]));
  const [days, setDays] = useState("");
  const create = useMutation(
    trpc.tokens.createRobot.mutationOptions({
      onSuccess: async (data) => {
        setName("");
        setNamespaces("");
        setEverywhere(false);
        setDays("");
        await onCreated({ name: data.name, token: data.token, kind: "robot", warnings: data.warnings });
      },
    }),
  );
  const expiry = parseExpiryDays(days);
  const scope = everywhere ? [ALL_NAMESPACES] : parseNamespaces(namespaces);
  const ready = name.trim() !== "" && scope.length > 0 && actions.size > 0 && !expiry.invalid;

  function toggle(action: RobotAction, on: boolean) {
    const next = new Set(actions);
    if (on) next.add(action);
    else next.delete(action);
    setActions(next);
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!ready) return;
    create.mutate({
      name: name.trim(),
      namespaces: scope,
      actions: ROBOT_ACTIONS.filter((a) => actions.has(a)),
      expiresInDays: expiry.days,
    });
  }

  return (
    <Card className="mb-4">
      <CardHeader
        title="Create a robot token"
        description="For CI and automation: limited to some namespaces and actions, and never more than you may do yourself. The audit log names it robot:<name>, created by you."
      />
      <form onSubmit={onSubmit} className="space-y-3" aria-label="Create a robot token">
        <div className="grid items-start gap-3 sm:grid-cols-[1fr_1fr_12rem]">
          <Field label="Name" hint="Lowercase letters, digits, “.”, “_” and “-”.">
            {(id) => (
              <Input
                id={id}
                placeholder="ci-deploy"
                value={name}
                maxLength={64}
                onChange={(e) => setName(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                data-testid="robot-name"
              />
            )}
          </Field>
          <Field label="Namespaces" hint="Comma-separated: team-a for team-a/app.">
            {(id) => (
              <div className="space-y-1.5">
                <Input
                  id={id}
                  placeholder="team-a, team-b"
                  value={everywhere ? "" : namespaces}
                  disabled={everywhere}
                  onChange={(e) => setNamespaces(e.target.value)}
                  autoComplete="off"
                  spellCheck={false}
                  data-testid="robot-namespaces"
                />
                <Checkbox
                  label="Every namespace (*)"
                  checked={everywhere}
                  onChange={(e) => setEverywhere(e.target.checked)}
                  data-testid="robot-all-namespaces"
                />
              </div>
            )}
          </Field>
          <ExpiryField value={days} onChange={setDays} invalid={expiry.invalid} testId="robot-days" />
        </div>
        <fieldset>
          <legend className="mb-1 text-xs font-medium text-slate-600 dark:text-slate-400">Actions</legend>
          <div className="flex flex-wrap gap-x-5 gap-y-2">
            {ROBOT_ACTIONS.map((a) => (
              <span key={a} title={robotActionHelp(a)}>
                <Checkbox
                  label={a}
                  checked={actions.has(a)}
                  onChange={(e) => toggle(a, e.target.checked)}
                  data-testid={`robot-action-${a}`}
                />
              </span>
            ))}
          </div>
        </fieldset>
        <div className="flex justify-end">
          <Button type="submit" variant="primary" loading={create.isPending} disabled={!ready} data-testid="robot-create">
            Create robot token
          </Button>
        </div>
      </form>
      {expiry.invalid ? <p className="mt-2 text-xs text-rose-600">Expiry must be a whole number of days from 1 to 3650.</p> : null}
      {create.error ? (
        <ErrorState className="mt-3" title="Could not create the robot token" message={apiErrorMessage(create.error)} />
      ) : null}
    </Card>
  );
}
