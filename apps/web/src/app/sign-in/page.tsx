"use client";

import { useState, type FormEvent } from "react";
import { Button, ErrorState, Field, Input } from "~/components/ui";
import { postJson, responseError } from "~/lib/auth";

/** Only same-site paths are accepted as a post-sign-in destination. */
function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export default function SignInPage() {
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await postJson("/api/auth/sign-in", { username, password });
      if (!res.ok) {
        setError(await responseError(res));
        return;
      }
      window.location.assign(nextPath());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
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
          <h1 className="text-xl font-semibold tracking-tight">Sign in to Berth</h1>
          <p className="text-sm text-slate-500 dark:text-slate-400">Your team&apos;s shared image store</p>
        </div>
        <form
          onSubmit={onSubmit}
          className="space-y-4 rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900"
          aria-label="Sign in"
        >
          <Field label="Username">
            {(id) => (
              <Input
                id={id}
                name="username"
                autoComplete="username"
                required
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                data-testid="sign-in-username"
              />
            )}
          </Field>
          <Field label="Password">
            {(id) => (
              <Input
                id={id}
                name="password"
                type="password"
                autoComplete="current-password"
                required
                autoFocus
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                data-testid="sign-in-password"
              />
            )}
          </Field>
          {error ? <ErrorState title="Sign-in failed" message={error} /> : null}
          <Button type="submit" variant="primary" className="w-full" loading={busy} data-testid="sign-in-submit">
            Sign in
          </Button>
        </form>
      </div>
    </main>
  );
}
