import type { TRPCClient } from "@trpc/client";
import type { AppRouter, RouterInputs, RouterOutputs } from "@berth/api";

/** People and tokens as `berth user …` and `berth token …` use them (the server's types as they are). */
export type UserRow = RouterOutputs["users"]["list"][number];
export type InviteInput = RouterInputs["users"]["invite"];
export type CreatedInvite = RouterOutputs["users"]["invite"];
export type PasswordReset = RouterOutputs["users"]["resetPassword"];
export type RoleChange = RouterOutputs["users"]["setRole"];
export type GrantChange = RouterOutputs["users"]["setGrant"];
export type Role = RoleChange["role"];
export type GrantRole = GrantChange["role"];
export type TokenRow = RouterOutputs["tokens"]["list"][number];
export type CreatedToken = RouterOutputs["tokens"]["create"];
export type RobotInput = RouterInputs["tokens"]["createRobot"];
export type CreatedRobot = RouterOutputs["tokens"]["createRobot"];

export interface PeopleApi {
  users(): Promise<UserRow[]>;
  invite(input: InviteInput): Promise<CreatedInvite>;
  disable(username: string): Promise<void>;
  enable(username: string): Promise<void>;
  /** Without `password`, the server returns a temporary one. */
  resetPassword(input: { username: string; password?: string }): Promise<PasswordReset>;
  setRole(input: { username: string; role: Role }): Promise<RoleChange>;
  setGrant(input: { username: string; namespace: string; role: GrantRole }): Promise<GrantChange>;
  removeGrant(input: { username: string; namespace: string }): Promise<void>;
  tokens(all: boolean): Promise<TokenRow[]>;
  createToken(input: { name: string; expiresInDays?: number }): Promise<CreatedToken>;
  createRobot(input: RobotInput): Promise<CreatedRobot>;
  revokeToken(id: string): Promise<void>;
}

type Call = <T>(fn: () => Promise<T>) => Promise<T>;

export function peopleApi(trpc: TRPCClient<AppRouter>, call: Call): PeopleApi {
  return {
    users: () => call(() => trpc.users.list.query()),
    invite: (input) => call(() => trpc.users.invite.mutate(input)),
    disable: (username) => call(async () => void (await trpc.users.disable.mutate({ username }))),
    enable: (username) => call(async () => void (await trpc.users.enable.mutate({ username }))),
    resetPassword: (input) => call(() => trpc.users.resetPassword.mutate(input)),
    setRole: (input) => call(() => trpc.users.setRole.mutate(input)),
    setGrant: (input) => call(() => trpc.users.setGrant.mutate(input)),
    removeGrant: (input) => call(async () => void (await trpc.users.removeGrant.mutate(input))),
    tokens: (all) => call(() => trpc.tokens.list.query({ all })),
    createToken: (input) => call(() => trpc.tokens.create.mutate(input)),
    createRobot: (input) => call(() => trpc.tokens.createRobot.mutate(input)),
    revokeToken: (id) => call(async () => void (await trpc.tokens.revoke.mutate({ id }))),
  };
}
