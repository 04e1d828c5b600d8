/**
 * Roles, grants and robot scopes as the dashboard names them. Only types come from the API
 * (its runtime modules are server code); the records below fail to compile when the server
 * adds a role or action they do not describe.
 */
import type { RouterInputs, RouterOutputs } from "@berth/api";

export type Role = RouterOutputs["users"]["list"][number]["role"];
export type GrantRole = RouterInputs["users"]["setGrant"]["role"];
export type RobotAction = RouterInputs["tokens"]["createRobot"]["actions"][number];
export type Action = RouterInputs["auth"]["can"]["action"];
export type UserRow = RouterOutputs["users"]["list"][number];
export type InviteRow = RouterOutputs["users"]["invites"][number];

/** Lowest first, as the server orders them. */
const ROLE_HELP: Record<Role, string> = {
  viewer: "read only: list, inspect, download, search, audit",
  developer: "pull, load, tag and push",
  maintainer: "also remove, prune, pin and tag protection",
  admin: "everything, plus registries, people and the audit archive",
};
export const ROLES = Object.keys(ROLE_HELP) as Role[];
export const roleHelp = (role: Role): string => ROLE_HELP[role];

const GRANT_HELP: Record<GrantRole, string> = {
  developer: ROLE_HELP.developer,
  maintainer: ROLE_HELP.maintainer,
};
export const GRANT_ROLES = Object.keys(GRANT_HELP) as GrantRole[];

const ROBOT_ACTION_HELP: Record<RobotAction, string> = {
  read: "list, inspect, download",
  pull: "pull from registries",
  push: "push to registries",
  tag: "add and move tags",
  remove: "untag and delete images",
  load: "load archives",
};
export const ROBOT_ACTIONS = Object.keys(ROBOT_ACTION_HELP) as RobotAction[];
export const robotActionHelp = (action: RobotAction): string => ROBOT_ACTION_HELP[action];

/** A robot scope of "*" covers every namespace. */
export const ALL_NAMESPACES = "*";

/** The full one-time link for an invitation path the server returned (`/invite/<secret>`). */
export function inviteUrl(path: string): string {
  return typeof window === "undefined" ? path : new URL(path, window.location.origin).toString();
}

/** "team-a, team-b" typed by a person → the namespace list (or ["*"]); blanks dropped, order kept. */
export function parseNamespaces(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((n) => n.trim())
        .filter(Boolean),
    ),
  ];
}
