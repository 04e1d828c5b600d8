"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, Card, CardHeader, ErrorState, Field, Input } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { NewPasswordFields } from "./new-password-fields";
import { useTRPC } from "~/trpc/react";

/** Change your own password; other browser sessions are signed out, tokens keep working. */
export function PasswordCard() {
  const trpc = useTRPC();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [done, setDone] = useState(false);
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: () => {
        setCurrent("");
        setNext("");
        setRepeat("");
        setDone(true);
      },
    }),
  );
  const mismatch = repeat !== "" && repeat !== next;

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    change.mutate({ currentPassword: current, newPassword: next });
  }

  return (
    <Card className="mb-6">
      <CardHeader title="Password" description="Changing it signs out your other browser sessions; tokens keep working." />
      <form onSubmit={onSubmit} className="grid items-end gap-3 sm:grid-cols-[1fr_1fr_1fr_auto]" aria-label="Change password">
        <Field label="Current password">
          {(id) => (
            <Input
              id={id}
              type="password"
              autoComplete="current-password"
              required
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
              data-testid="password-current"
            />
          )}
        </Field>
        <NewPasswordFields
          password={next}
          repeat={repeat}
          onPassword={setNext}
          onRepeat={setRepeat}
          passwordLabel="New password (8+ characters)"
          repeatLabel="Repeat new password"
          testIds={{ password: "password-new", repeat: "password-repeat" }}
        />
        <Button
          type="submit"
          variant="primary"
          loading={change.isPending}
          disabled={!current || next.length < 8 || next !== repeat}
          data-testid="password-submit"
        >
          Change password
        </Button>
      </form>
      {mismatch ? <p className="mt-2 text-xs text-rose-600">The two new passwords differ.</p> : null}
      {done ? (
        <p className="mt-2 text-sm text-emerald-700 dark:text-emerald-400" data-testid="password-done">
          Password changed.
        </p>
      ) : null}
      {change.error ? <ErrorState className="mt-3" title="Could not change the password" message={errorMessage(change.error)} /> : null}
    </Card>
  );
}
