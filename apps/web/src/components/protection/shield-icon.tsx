/** A small shield, the mark of protected tags. */
export function ShieldIcon({ className = "size-3.5" }: { className?: string }) {
  return (
    <svg viewBox="0 0 16 16" fill="currentColor" aria-hidden className={className}>
      <path d="M8 1.2 2.5 3.3v4.1c0 3.3 2.3 6.2 5.5 7.4 3.2-1.2 5.5-4.1 5.5-7.4V3.3L8 1.2Zm0 1.6 4 1.5v3.1c0 2.5-1.6 4.8-4 5.8-2.4-1-4-3.3-4-5.8V4.3l4-1.5Z" />
    </svg>
  );
}
