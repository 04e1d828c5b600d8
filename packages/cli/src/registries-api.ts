import type { TRPCClient } from "@trpc/client";
import type { AppRouter, RouterInputs, RouterOutputs } from "@berth/api";

/** The team's registry settings as `berth registry …` uses them (the server's types as they are). */
export type RegistryView = RouterOutputs["registries"]["list"][number];
export type SaveRegistryInput = RouterInputs["registries"]["save"];
export type RegistryLoginResult = RouterOutputs["registries"]["login"];
export type MirrorTestResult = RouterOutputs["registries"]["testMirror"];
export type MachineConfig = RouterOutputs["registries"]["daemonJson"];

export interface RegistriesApi {
  list(): Promise<RegistryView[]>;
  save(input: SaveRegistryInput): Promise<RegistryView>;
  remove(domain: string): Promise<void>;
  login(input: { domain: string; username: string; password: string }): Promise<RegistryLoginResult>;
  /** False when no credentials were stored. */
  logout(domain: string): Promise<boolean>;
  testMirror(input: { domain: string; url: string }): Promise<MirrorTestResult>;
  daemonJson(): Promise<MachineConfig>;
}

type Call = <T>(fn: () => Promise<T>) => Promise<T>;

export function registriesApi(trpc: TRPCClient<AppRouter>, call: Call): RegistriesApi {
  return {
    list: () => call(() => trpc.registries.list.query()),
    save: (input) => call(() => trpc.registries.save.mutate(input)),
    remove: (domain) => call(async () => void (await trpc.registries.remove.mutate({ domain }))),
    login: (input) => call(() => trpc.registries.login.mutate(input)),
    logout: (domain) => call(async () => (await trpc.registries.logout.mutate({ domain })).removed),
    testMirror: (input) => call(() => trpc.registries.testMirror.mutate(input)),
    daemonJson: () => call(() => trpc.registries.daemonJson.query()),
  };
}
