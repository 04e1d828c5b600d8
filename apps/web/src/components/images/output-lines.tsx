/** Docker-style result lines ("Untagged: …", "Deleted: …", "Loaded image: …"). */
export function OutputLines({ lines, testId }: { lines: string[]; testId?: string }) {
  if (lines.length === 0) return null;
  return (
    <pre
      data-testid={testId}
      className="max-h-64 overflow-auto rounded-md bg-slate-950 px-3 py-2 font-mono text-xs leading-relaxed text-slate-100 dark:bg-black"
    >
      {lines.join("\n")}
    </pre>
  );
}
