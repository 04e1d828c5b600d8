"use client";

import { useState } from "react";
import { Button } from "./button";

export function CopyButton({ text, label = "Copy", testId }: { text: string; label?: string; testId?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      size="sm"
      variant="secondary"
      data-testid={testId}
      aria-label={`${label}: ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          // Clipboard API is unavailable on plain-HTTP origins; fall back to a hidden textarea.
          const area = document.createElement("textarea");
          area.value = text;
          document.body.append(area);
          area.select();
          document.execCommand("copy");
          area.remove();
        }
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      }}
    >
      {copied ? "Copied" : label}
    </Button>
  );
}

/**
 * Monospace text with a copy button beside it. `fit`: "truncate" keeps one line (IDs),
 * "break" wraps anywhere (a secret shown once), "pre" keeps the text's own lines (config files).
 */
export function CopyField({
  text,
  testId,
  fit = "truncate",
  label,
}: {
  text: string;
  testId?: string;
  fit?: "truncate" | "break" | "pre";
  label?: string;
}) {
  const base = "min-w-0 flex-1 rounded-md bg-slate-100 font-mono text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-200";
  if (fit === "pre") {
    return (
      <div className="flex items-start gap-2">
        <pre data-testid={testId} className={`${base} overflow-x-auto p-3`}>
          {text}
        </pre>
        <CopyButton text={text} label={label} />
      </div>
    );
  }
  return (
    <div className="flex items-center gap-2">
      <code
        data-testid={testId}
        className={`${base} ${fit === "break" ? "px-2 py-2 break-all" : "truncate px-2 py-1.5"}`}
        title={fit === "truncate" ? text : undefined}
      >
        {text}
      </code>
      <CopyButton text={text} label={label} />
    </div>
  );
}
