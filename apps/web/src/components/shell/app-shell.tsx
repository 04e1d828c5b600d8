"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { Button, cn, Skeleton } from "~/components/ui";
import { signOut } from "~/lib/auth";
import { useTRPC } from "~/trpc/react";
import { ThemeToggle } from "./theme-toggle";

const nav = [
  { href: "/", label: "Images", match: (p: string) => p === "/" || p.startsWith("/images") },
  { href: "/load", label: "Load", match: (p: string) => p.startsWith("/load") },
  { href: "/build", label: "Build", match: (p: string) => p.startsWith("/build") },
  { href: "/search", label: "Search", match: (p: string) => p.startsWith("/search") },
  { href: "/jobs", label: "Jobs", match: (p: string) => p.startsWith("/jobs") },
  { href: "/registries", label: "Registries", match: (p: string) => p.startsWith("/registries") },
  { href: "/protection", label: "Tag protection", match: (p: string) => p.startsWith("/protection") },
  { href: "/disk-usage", label: "Disk usage", match: (p: string) => p.startsWith("/disk-usage") },
  { href: "/audit", label: "Audit", match: (p: string) => p.startsWith("/audit") },
  { href: "/tokens", label: "Tokens", match: (p: string) => p.startsWith("/tokens") },
  // Only for those who may manage people (the page and the API refuse everyone else anyway).
  { href: "/people", label: "People", match: (p: string) => p.startsWith("/people"), needs: "users" as const },
];

function Logo() {
  return (
    <Link href="/" className="flex items-center gap-2 px-2 text-base font-semibold tracking-tight">
      <span
        aria-hidden
        className="grid size-7 place-items-center rounded-md bg-sky-600 text-sm text-white dark:bg-sky-500 dark:text-slate-950"
      >
        ⚓
      </span>
      Berth
    </Link>
  );
}

export function AppShell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const [menuOpen, setMenuOpen] = useState(false);

  // An expired or revoked session still has a cookie, so the proxy lets it through.
  useEffect(() => {
    if (me.isSuccess && !me.data) {
      window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
    }
  }, [me.isSuccess, me.data]);

  useEffect(() => setMenuOpen(false), [pathname]);

  const user = me.data ?? null;

  return (
    <div className="flex min-h-screen">
      {/* The aside stretches with the page, so its background reaches the bottom however long the page
          is; its content stays in view (sticky, one viewport tall). Below md it is a drawer. */}
      <aside
        className={cn(
          "fixed inset-y-0 left-0 z-30 w-56 shrink-0 border-r border-slate-200 bg-white transition-transform dark:border-slate-800 dark:bg-slate-900",
          "md:relative md:inset-auto md:translate-x-0 md:self-stretch",
          menuOpen ? "translate-x-0" : "-translate-x-full",
        )}
      >
        <div className="flex h-dvh flex-col overflow-y-auto py-4 md:sticky md:top-0 md:h-screen">
          <Logo />
          <nav aria-label="Main" className="mt-6 flex flex-1 flex-col gap-0.5 px-2">
            {nav.map((item) => {
              if (item.needs && !user?.permissions.somewhere[item.needs]) return null;
              const active = item.match(pathname);
              return (
                <Link
                  key={item.href}
                  href={item.href}
                  aria-current={active ? "page" : undefined}
                  data-testid={`nav-${item.href === "/" ? "images" : item.href.slice(1)}`}
                  className={cn(
                    "rounded-md px-3 py-2 text-sm font-medium",
                    active
                      ? "bg-sky-50 text-sky-700 dark:bg-sky-950 dark:text-sky-300"
                      : "text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-slate-100",
                  )}
                >
                  {item.label}
                </Link>
              );
            })}
          </nav>
          <div className="space-y-2 border-t border-slate-200 px-3 pt-3 dark:border-slate-800">
            <ThemeToggle />
            <div className="flex items-center justify-between gap-2 px-1">
              {me.isPending ? (
                <Skeleton className="h-5 w-24" />
              ) : (
                <div className="min-w-0">
                  <div data-testid="current-user" className="truncate text-sm font-medium">
                    {user?.username ?? "—"}
                  </div>
                  {user?.role ? <div className="text-xs text-slate-500 dark:text-slate-400">{user.role}</div> : null}
                </div>
              )}
              <Button size="sm" variant="secondary" data-testid="sign-out" onClick={() => void signOut()}>
                Sign out
              </Button>
            </div>
          </div>
        </div>
      </aside>
      {menuOpen ? (
        <button
          type="button"
          aria-label="Close menu"
          className="fixed inset-0 z-20 bg-slate-950/40 md:hidden"
          onClick={() => setMenuOpen(false)}
        />
      ) : null}
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="sticky top-0 z-10 flex items-center gap-3 border-b border-slate-200 bg-white/80 px-4 py-2 backdrop-blur md:hidden dark:border-slate-800 dark:bg-slate-900/80">
          <Button size="sm" variant="ghost" onClick={() => setMenuOpen(true)} aria-expanded={menuOpen}>
            ☰ Menu
          </Button>
          <Logo />
        </header>
        <main className="mx-auto w-full max-w-7xl flex-1 px-4 py-6 md:px-8">{children}</main>
      </div>
    </div>
  );
}

/** Page title row with optional actions on the right. */
export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-5 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-xl font-semibold tracking-tight text-slate-900 dark:text-slate-50">{title}</h1>
        {description ? <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{description}</p> : null}
      </div>
      {actions ? <div className="flex flex-wrap items-center gap-2">{actions}</div> : null}
    </div>
  );
}
