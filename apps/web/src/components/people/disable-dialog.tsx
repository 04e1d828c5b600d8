"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Button, Dialog, ErrorState } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import type { UserRow } from "~/lib/people";
import { useTRPC } from "~/trpc/react";

/** Confirms disabling someone: their sessions end, their tokens and robots stop at once. */
export function DisableDialog({ user, onClose }: { user: UserRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const disable = useMutation(
    trpc.users.disable.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() });
        onClose();
      },
    }),
  );
  const { reset } = disable;
  const username = user?.username;
  useEffect(() => {
    reset();
  }, [username, reset]);

  return (
    <Dialog
      open={user !== null}
      onClose={onClose}
      testId="disable-dialog"
      title={`Disable ${user?.username ?? ""}?`}
      description="They are signed out everywhere, and their tokens and robot tokens stop working until you enable them again. Nothing they did is deleted."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="danger"
            loading={disable.isPending}
            onClick={() => user && disable.mutate({ username: user.username })}
            data-testid="disable-confirm"
          >
            Disable
          </Button>
        </>
      }
    >
      {disable.error ? <ErrorState title="Not disabled" message={apiErrorMessage(disable.error)} /> : null}
    </Dialog>
  );
}
