"use client";

import type { ReactNode } from "react";
import type { Action } from "~/lib/people";
import { useCanFor, usePermissions } from "./use-permissions";
import { WhyNot } from "./why-not";

/**
 * Renders a control enabled when the caller may do `action`, else disabled with a "Why?" beside
 * it. With a `reference` (or `namespace`) the server judges that one; without, "anywhere at all".
 */
export function Guarded({
  action,
  reference,
  namespace,
  children,
}: {
  action: Action;
  reference?: string;
  namespace?: string;
  children: (allowed: boolean) => ReactNode;
}) {
  const specific = reference !== undefined || namespace !== undefined;
  return specific ? (
    <GuardedFor action={action} reference={reference} namespace={namespace}>
      {children}
    </GuardedFor>
  ) : (
    <GuardedAnywhere action={action}>{children}</GuardedAnywhere>
  );
}

function GuardedAnywhere({ action, children }: { action: Action; children: (allowed: boolean) => ReactNode }) {
  const { can } = usePermissions();
  return <Gate allowed={can(action)} action={action} control={children} />;
}

function GuardedFor({
  action,
  reference,
  namespace,
  children,
}: {
  action: Action;
  reference?: string;
  namespace?: string;
  children: (allowed: boolean) => ReactNode;
}) {
  // While the server is asked, the control stays usable: it refuses with the reason anyway.
  const allowed = useCanFor(action, { reference, namespace }) ?? true;
  return <Gate allowed={allowed} action={action} reference={reference} namespace={namespace} control={children} />;
}

function Gate({
  allowed,
  action,
  reference,
  namespace,
  control,
}: {
  allowed: boolean;
  action: Action;
  reference?: string;
  namespace?: string;
  control: (allowed: boolean) => ReactNode;
}) {
  if (allowed) return <>{control(true)}</>;
  return (
    <span className="inline-flex items-center gap-1.5" data-testid="not-permitted" data-action={action}>
      {control(false)}
      <WhyNot action={action} reference={reference} namespace={namespace} />
    </span>
  );
}
