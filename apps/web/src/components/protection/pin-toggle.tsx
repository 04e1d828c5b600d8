"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { WhyNot } from "~/components/account/why-not";
import { Button } from "~/components/ui";
import { errorMessage } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

/**
 * Pin/Unpin for the image page. A pinned image is never pruned and rmi refuses to delete it.
 * People who may not pin see the button disabled, with the server's reason as its tooltip and a "Why?".
 */
export function PinToggle({ imageRef }: { imageRef: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const status = useQuery(trpc.protection.image.queryOptions({ ref: imageRef }));
  const options = { onSettled: () => queryClient.invalidateQueries() };
  const pin = useMutation(trpc.images.pin.mutationOptions(options));
  const unpin = useMutation(trpc.images.unpin.mutationOptions(options));
  const failure = pin.error ?? unpin.error;

  if (!status.data) return null;
  const { pinned, canPin, pinDenied } = status.data;
  const title = !canPin
    ? (pinDenied ?? undefined)
    : failure
      ? errorMessage(failure)
      : pinned
        ? "Pinned: prune keeps this image and rmi refuses to delete it. Unpin to allow both."
        : "Pin: prune will keep this image and rmi will refuse to delete it.";
  const button = (
    <Button
      onClick={() => (pinned ? unpin : pin).mutate({ ref: imageRef })}
      loading={pin.isPending || unpin.isPending}
      disabled={!canPin}
      title={title}
      aria-pressed={pinned}
      variant={pinned ? "primary" : "secondary"}
      data-testid="image-pin"
    >
      {pinned ? "📌 Pinned" : "Pin"}
    </Button>
  );
  if (canPin) return button;
  return (
    <span className="inline-flex items-center gap-1.5">
      {button}
      <WhyNot action="pin" reference={imageRef} />
    </span>
  );
}
