"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Button, CopyField, Dialog, ErrorState, Field, Input } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import { pluralize } from "~/lib/format";
import type { UserRow } from "~/lib/people";
import { useTRPC } from "~/trpc/react";

/**
 * Sets a new password for someone: a random temporary one (shown once, to pass on) or one the
 * admin types. Their browser sessions end; their tokens keep working.
 */
export function ResetPasswordDialog({ user, onClose }: { user: UserRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [password, setPassword] = useState("");
  const reset = useMutation(
    trpc.users.resetPassword.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() }) }),
  );
  const { reset: clear } = reset;
  const username = user?.username;

  useEffect(() => {
    setPassword("");
    clear();
  }, [username, clear]);

  const done = reset.data;
  const tooShort = password !== "" && password.length < 8;

  return (
    <Dialog
      open={user !== null}
      onClose={onClose}
      testId="reset-dialog"
      title={done ? `Password of ${done.username} reset` : `Reset the password of ${user?.username ?? ""}?`}
      description={
        done
          ? `${pluralize(done.sessionsEnded, "browser session")} ended. Their tokens keep working.`
          : "Their browser sessions end at once; their tokens keep working."
      }
      footer={
        done ? (
          <Button variant="primary" onClick={onClose} data-testid="reset-done">
            {done.temporaryPassword ? "I have copied it" : "Done"}
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button
              variant="danger"
              loading={reset.isPending}
              disabled={tooShort}
              onClick={() => user && reset.mutate({ username: user.username, ...(password ? { password } : {}) })}
              data-testid="reset-confirm"
            >
              Reset password
            </Button>
          </>
        )
      }
    >
      {done ? (
        done.temporaryPassword ? (
          <div className="space-y-2">
            <p>Give {done.username} this temporary password; Berth cannot show it again. They can change it on the Tokens page.</p>
            <CopyField text={done.temporaryPassword} testId="reset-temporary-password" fit="break" />
          </div>
        ) : (
          <p>The password you typed is set.</p>
        )
      ) : (
        <div className="space-y-3">
          <Field
            label="New password (optional)"
            hint="Leave empty for a random temporary password, shown once. Otherwise 8 characters or more."
          >
            {(id) => (
              <Input
                id={id}
                type="password"
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-invalid={tooShort}
                data-testid="reset-password"
              />
            )}
          </Field>
          {reset.error ? <ErrorState title="Not reset" message={apiErrorMessage(reset.error)} /> : null}
        </div>
      )}
    </Dialog>
  );
}
