"use client";

import { useQuery } from "@tanstack/react-query";
import { Badge } from "~/components/ui";
import { useTRPC } from "~/trpc/react";
import { ShieldIcon } from "./shield-icon";

/**
 * A shield next to a tag that a protection rule covers. `imageRef` names the image (the page
 * passes the same one to PinToggle, so both read one query); `reference` is the tag as listed.
 */
export function ProtectedTagBadge({ imageRef, reference }: { imageRef: string; reference: string }) {
  const trpc = useTRPC();
  const status = useQuery(trpc.protection.image.queryOptions({ ref: imageRef }));
  const rule = status.data?.tags.find((t) => t.ref === reference)?.rule;
  if (!rule) return null;
  return (
    <span
      title={`Protected by rule “${rule.pattern}” in namespace ${rule.namespace}: only an admin can move or remove this tag.`}
      data-testid="protected-tag"
    >
      <Badge tone="info" className="gap-1">
        <ShieldIcon />
        protected
      </Badge>
    </span>
  );
}
