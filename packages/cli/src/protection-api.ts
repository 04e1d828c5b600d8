import type { TRPCClient } from "@trpc/client";
import type { AppRouter, RouterOutputs } from "@berth/api";

/** A tag protection rule as the server lists it. */
export type ProtectionRule = RouterOutputs["protection"]["rules"][number];
/** A rule as added or removed. */
export type ChangedRule = RouterOutputs["protection"]["add"];
export type PinResult = RouterOutputs["images"]["pin"];

/** Tag protection rules (`berth protect …`) and pinned images (`berth pin`/`unpin`). */
export interface ProtectionApi {
  rules(namespace?: string): Promise<ProtectionRule[]>;
  add(input: { namespace: string; pattern: string }): Promise<ChangedRule>;
  remove(input: { namespace: string; pattern: string }): Promise<ChangedRule>;
  pin(ref: string): Promise<PinResult>;
  unpin(ref: string): Promise<PinResult>;
}

type Call = <T>(fn: () => Promise<T>) => Promise<T>;

export function protectionApi(trpc: TRPCClient<AppRouter>, call: Call): ProtectionApi {
  return {
    rules: (namespace) => call(() => trpc.protection.rules.query(namespace ? { namespace } : {})),
    add: (input) => call(() => trpc.protection.add.mutate(input)),
    remove: (input) => call(() => trpc.protection.remove.mutate(input)),
    pin: (ref) => call(() => trpc.images.pin.mutate({ ref })),
    unpin: (ref) => call(() => trpc.images.unpin.mutate({ ref })),
  };
}
