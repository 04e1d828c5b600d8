"use client";

import { useQuery } from "@tanstack/react-query";
import { useId, useRef, useState, type ToggleEvent } from "react";
import { cn } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import type { Action } from "~/lib/people";
import { useTRPC } from "~/trpc/react";

const WIDTH = 288;

/**
 * A small "Why?" beside a control the caller may not use: asks the server (`auth.can`) for the
 * reason only when opened. The answer shows in a popover, which lives in the top layer so table
 * cells and dialogs do not clip it; Escape or a click elsewhere closes it.
 */
export function WhyNot({
  action,
  reference,
  namespace,
  className,
}: {
  action: Action;
  /** The image reference the control acts on (its namespace is judged). */
  reference?: string;
  namespace?: string;
  className?: string;
}) {
  const trpc = useTRPC();
  const id = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const [open, setOpen] = useState(false);
  const answer = useQuery(trpc.auth.can.queryOptions({ action, ref: reference, namespace }, { enabled: open, staleTime: 30_000 }));

  function place(event: ToggleEvent<HTMLSpanElement>) {
    if (event.newState !== "open" || !buttonRef.current) return;
    const box = buttonRef.current.getBoundingClientRect();
    const style = event.currentTarget.style;
    style.top = `${Math.round(box.bottom + 6)}px`;
    style.left = `${Math.round(Math.max(8, Math.min(box.left, window.innerWidth - WIDTH - 8)))}px`;
  }

  const text = answer.error
    ? errorMessage(answer.error)
    : !answer.data
      ? "Checking…"
      : answer.data.allowed
        ? "You may do this now: reload the page."
        : answer.data.reason;

  return (
    <>
      <button
        ref={buttonRef}
        type="button"
        popoverTarget={id}
        aria-expanded={open}
        aria-label={`Why is ${action} not available?`}
        data-testid="why-not"
        data-action={action}
        className={cn(
          "rounded text-xs font-medium text-sky-700 underline decoration-dotted underline-offset-2 hover:text-sky-600 dark:text-sky-400",
          "focus-visible:outline-2 focus-visible:outline-sky-500",
          className,
        )}
      >
        Why?
      </button>
      {/* A span, not a div: the "Why?" may sit inside a paragraph. */}
      <span
        id={id}
        popover="auto"
        role="status"
        onBeforeToggle={place}
        onToggle={(e) => setOpen(e.newState === "open")}
        data-testid="why-not-reason"
        style={{ width: WIDTH }}
        className="fixed inset-auto m-0 rounded-md border border-slate-200 bg-white p-3 text-left text-xs leading-relaxed font-normal whitespace-normal text-slate-700 shadow-lg dark:border-slate-700 dark:bg-slate-900 dark:text-slate-200"
      >
        {open ? (
          <>
            <span className="block first-letter:uppercase">{text}</span>
            {answer.data && !answer.data.allowed ? (
              <span className="mt-1.5 block text-slate-500 dark:text-slate-400">
                An admin can change your role, or grant you one in a namespace.
              </span>
            ) : null}
          </>
        ) : null}
      </span>
    </>
  );
}
