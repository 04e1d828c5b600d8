"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { Button, ErrorState, Field, Input, Skeleton } from "~/components/ui";
import { postJson, responseError } from "~/lib/auth";
import { apiErrorMessage } from "~/lib/errors";
import { formatDateTime } from "~/lib/format";
import { roleHelp } from "~/lib/people";
import { NewPasswordFields } from "~/components/account/new-password-fields";
import { useTRPC } from "~/trpc/react";

/**
 * Where an invitation link lands (outside the dashboard: the visitor has no account yet). They
 * choose a username (fixed when the invitation names one) and a password, then are signed in.
 */
export default function InvitePage() {
  const { secret } = useParams<{ secret: string }>();
  const trpc = useTRPC();
  const info = useQuery(trpc.users.inviteInfo.queryOptions({ secret }, { staleTime: Infinity }));
  const accept = useMutation(trpc.users.acceptInvite.mutationOptions());
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [signInError, setSignInError] = useState<string | null>(null);
  const [signingIn, setSigningIn] = useState(false);

  const bound = info.data?.username ?? null;
  useEffect(() => {
    if (bound) setUsername(bound);
  }, [bound]);

  const mismatch = repeat !== "" && repeat !== password;
  const ready = username.trim() !== "" && password.length >= 8 && password === repeat;

  async function signIn(name: string) {
    setSigningIn(true);
    setSignInError(null);
    try {
      const res = await postJson("/api/auth/sign-in", { username: name, password });
      if (!res.ok) {
        setSignInError(await responseError(res));
        return;
      }
      window.location.assign("/");
    } catch (err) {
      setSignInError(apiErrorMessage(err));
    } finally {
      setSigningIn(false);
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!ready || accept.isPending) return;
    accept.mutate({ secret, username: username.trim(), password }, { onSuccess: (user) => void signIn(user.username) });
  }

  return (
    <main className="grid min-h-screen place-items-center px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex flex-col items-center gap-2 text-center">
          <span
            aria-hidden
            className="grid size-10 place-items-center rounded-lg bg-sky-600 text-lg text-white dark:bg-sky-500 dark:text-slate-950"
          >
            ⚓
          </span>
          <h1 className="text-xl font-semibold tracking-tight">Join Berth</h1>
          <p className="text-sm text-slate-500 dark:text-slate-400">Your team&apos;s shared image store</p>
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
          {info.isPending ? (
            <div className="space-y-3" role="status" aria-label="Checking the invitation">
              <Skeleton className="h-5 w-3/4" />
              <Skeleton className="h-9 w-full" />
              <Skeleton className="h-9 w-full" />
            </div>
          ) : info.error ? (
            <div data-testid="invite-unusable" className="space-y-3">
              <ErrorState title="This invitation cannot be used" message={apiErrorMessage(info.error)} />
              <Link href="/sign-in" className="block text-center text-sm text-sky-700 hover:underline dark:text-sky-400">
                Sign in with an existing account
              </Link>
            </div>
          ) : accept.isSuccess ? (
            <div className="space-y-3" data-testid="invite-accepted">
              <p className="text-sm">
                Your account <strong>{accept.data.username}</strong> is ready. {signingIn ? "Signing you in…" : null}
              </p>
              {signInError ? (
                <>
                  <ErrorState title="Sign-in failed" message={signInError} />
                  <Link href="/sign-in" className="block text-center text-sm text-sky-700 hover:underline dark:text-sky-400">
                    Go to sign in
                  </Link>
                </>
              ) : null}
            </div>
          ) : (
            <form onSubmit={onSubmit} className="space-y-4" aria-label="Accept the invitation">
              <p className="text-sm text-slate-600 dark:text-slate-300" data-testid="invite-offer">
                You are invited as <strong data-testid="invite-offer-role">{info.data.role}</strong> ({roleHelp(info.data.role)}). The link
                works once and expires {formatDateTime(info.data.expiresAt)}.
              </p>
              <Field label="Username" hint={bound ? "Chosen by whoever invited you." : "Lowercase letters, digits, “.”, “_” and “-”."}>
                {(id) => (
                  <Input
                    id={id}
                    name="username"
                    autoComplete="username"
                    required
                    readOnly={bound !== null}
                    value={username}
                    onChange={(e) => setUsername(e.target.value)}
                    data-testid="accept-username"
                  />
                )}
              </Field>
              <NewPasswordFields
                password={password}
                repeat={repeat}
                onPassword={setPassword}
                onRepeat={setRepeat}
                passwordLabel="Password (8+ characters)"
                repeatLabel="Repeat password"
                testIds={{ password: "accept-password", repeat: "accept-repeat" }}
                name="password"
              />
              {mismatch ? <p className="text-xs text-rose-600">The two passwords differ.</p> : null}
              {accept.error ? <ErrorState title="Could not create your account" message={apiErrorMessage(accept.error)} /> : null}
              <Button
                type="submit"
                variant="primary"
                className="w-full"
                loading={accept.isPending}
                disabled={!ready}
                data-testid="accept-submit"
              >
                Create account and sign in
              </Button>
            </form>
          )}
        </div>
      </div>
    </main>
  );
}
