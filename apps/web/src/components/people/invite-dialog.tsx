"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Button, CopyButton, Dialog, ErrorState, Field, Input } from "~/components/ui";
import { apiErrorMessage } from "~/lib/errors";
import { formatDateTime } from "~/lib/format";
import { inviteUrl, ROLES, type Role } from "~/lib/people";
import { useTRPC } from "~/trpc/react";
import { RoleSelect } from "./role-select";

const DEFAULT_DAYS = 7;

/**
 * Creates a one-time invitation link for a role (optionally bound to a username) and shows it
 * once: only its hash is stored, so it cannot be shown again.
 */
export function InviteDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [role, setRole] = useState<Role>("viewer");
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [days, setDays] = useState(String(DEFAULT_DAYS));
  const invite = useMutation(
    trpc.users.invite.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.users.invites.queryKey() }) }),
  );
  const { reset } = invite;

  useEffect(() => {
    if (!open) return;
    setRole("viewer");
    setUsername("");
    setEmail("");
    setDays(String(DEFAULT_DAYS));
    reset();
  }, [open, reset]);

  const daysNumber = Number(days);
  const daysInvalid = !Number.isInteger(daysNumber) || daysNumber < 1 || daysNumber > 30;
  const created = invite.data;
  const link = created ? inviteUrl(created.path) : "";

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (daysInvalid || invite.isPending) return;
    invite.mutate({
      role,
      expiresInDays: daysNumber,
      ...(username.trim() ? { username: username.trim() } : {}),
      ...(email.trim() ? { email: email.trim() } : {}),
    });
  }

  return (
    <Dialog
      open={open}
      onClose={onClose}
      testId="invite-dialog"
      title={created ? "Invitation link created" : "Invite someone"}
      description={
        created
          ? "Send this link to the person: it works once, until it expires. Berth stores only its hash and cannot show it again."
          : "A one-time link that lets one person create their account with the role you choose."
      }
      footer={
        created ? (
          <Button variant="primary" onClick={onClose} data-testid="invite-done">
            I have copied it
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button
              type="submit"
              form="invite-form"
              variant="primary"
              loading={invite.isPending}
              disabled={daysInvalid}
              data-testid="invite-submit"
            >
              Create link
            </Button>
          </>
        )
      }
    >
      {created ? (
        <div className="space-y-3">
          <div className="flex items-center gap-2">
            <code
              data-testid="invite-link"
              className="min-w-0 flex-1 rounded-md bg-slate-100 px-2 py-2 font-mono text-xs break-all dark:bg-slate-800"
            >
              {link}
            </code>
            <CopyButton text={link} testId="invite-copy" />
          </div>
          <p className="text-slate-600 dark:text-slate-400">
            Role <strong>{created.role}</strong>
            {created.username ? (
              <>
                , username <strong>{created.username}</strong>
              </>
            ) : null}
            {created.email ? <> ({created.email})</> : null}; expires {formatDateTime(created.expiresAt)}.
          </p>
        </div>
      ) : (
        <form id="invite-form" onSubmit={onSubmit} className="space-y-4">
          <Field label="Default role" hint="Grants in namespaces can be added once they have joined.">
            {(id) => <RoleSelect id={id} roles={ROLES} value={role} onChange={setRole} data-testid="invite-role" />}
          </Field>
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Username (optional)" hint="Binds the link to this name.">
              {(id) => (
                <Input
                  id={id}
                  placeholder="erin"
                  value={username}
                  onChange={(e) => setUsername(e.target.value)}
                  autoComplete="off"
                  spellCheck={false}
                  data-testid="invite-username"
                />
              )}
            </Field>
            <Field label="Email (optional)" hint="For your records; Berth sends no mail.">
              {(id) => (
                <Input
                  id={id}
                  type="email"
                  placeholder="erin@example.com"
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                  data-testid="invite-email"
                />
              )}
            </Field>
          </div>
          <Field label="Expires after (days)" hint="1 to 30.">
            {(id) => (
              <Input
                id={id}
                type="number"
                min={1}
                max={30}
                value={days}
                onChange={(e) => setDays(e.target.value)}
                aria-invalid={daysInvalid}
                className="sm:w-40"
                data-testid="invite-days"
              />
            )}
          </Field>
          {invite.error ? <ErrorState title="No invitation created" message={apiErrorMessage(invite.error)} /> : null}
        </form>
      )}
    </Dialog>
  );
}
