import { z } from "zod";
import { ALL_NAMESPACES, GRANT_ROLES, ROBOT_ACTIONS, ROLES } from "../auth/permissions";
import { namespaceInput } from "../services/tag-rules";

/**
 * What people may type for users, invitations, grants and robot tokens, checked with messages
 * that name what is wrong.
 */

const NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

function nameOf(what: string) {
  return z
    .string()
    .trim()
    .min(1, `a ${what} is required`)
    .max(64, `a ${what} has at most 64 characters`)
    .superRefine((value, ctx) => {
      if (!NAME.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `"${value}" is not a valid ${what}: use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit`,
        });
      }
    });
}

export const usernameInput = nameOf("username");
export const robotNameInput = nameOf("robot token name");

export const roleInput = z.enum(ROLES, {
  error: (issue) => `"${String(issue.input)}" is not a role (one of ${ROLES.join(", ")})`,
});

export const grantRoleInput = z.enum(GRANT_ROLES, {
  error: (issue) =>
    `"${String(issue.input)}" cannot be granted in a namespace (one of ${GRANT_ROLES.join(", ")}; admin is only a default role)`,
});

export const passwordInput = z.string().min(8, "the password needs at least 8 characters").max(200, "the password is too long");

export { namespaceInput };

/** A robot's namespaces: names, or `*` alone for every namespace. */
export const robotNamespacesInput = z
  .array(z.union([z.literal(ALL_NAMESPACES), namespaceInput]))
  .min(1, 'a robot token needs at least one namespace (or "*" for all)')
  .max(100, "at most 100 namespaces per robot token")
  .transform((values) => [...new Set(values)])
  .superRefine((values, ctx) => {
    if (values.includes(ALL_NAMESPACES) && values.length > 1) {
      ctx.addIssue({ code: "custom", message: '"*" already means every namespace: give it alone' });
    }
  });

export const robotActionsInput = z
  .array(
    z.enum(ROBOT_ACTIONS, {
      error: (issue) => `"${String(issue.input)}" is not an action a robot token can have (one of ${ROBOT_ACTIONS.join(", ")})`,
    }),
  )
  .min(1, `a robot token needs at least one action (${ROBOT_ACTIONS.join(", ")})`)
  .transform((values) => ROBOT_ACTIONS.filter((a) => values.includes(a)));

export const expiresInDaysInput = z.number().int().positive("expiry must be at least 1 day").max(3650, "expiry is at most 3650 days");

/** Invitation secrets are base64url; anything else cannot be one. */
export const inviteSecretInput = z
  .string()
  .trim()
  .min(1, "the invitation secret is required")
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, "this invitation link is not valid");
