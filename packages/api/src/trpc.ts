/**
 * 1. INITIALISATION
 * One tRPC instance with our JSON transformer (dates cross the wire intact) and an
 * error formatter that keeps the engine's message as the user-facing text.
 */
import { initTRPC } from "@trpc/server";
import { transformer } from "./transformer";
import { z, ZodError } from "zod";
import type { Context } from "./context";
import { EngineError } from "@berth/engine";
import { toTRPCError } from "./errors";
import { guard, type Check, type Requirement } from "./auth/guard";

const t = initTRPC.context<Context>().create({
  transformer,
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      data: {
        ...shape.data,
        zodError: error.cause instanceof ZodError ? error.cause.flatten() : null,
      },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * 2. MIDDLEWARE
 * Engine errors become tRPC errors with the same message in one place.
 */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    // Engine errors carry their own code; input validation and others keep tRPC's.
    const cause = result.error.cause;
    throw cause instanceof EngineError ? toTRPCError(cause) : result.error;
  }
  return result;
});

/**
 * 3. PROCEDURES
 * Every check goes through auth/guard.ts (which asks auth/permissions.ts), and every refusal
 * is audited as `denied`. public: sign-in, invitations and `auth.me` only.
 * permittedProcedure(requirement, { input, targets, audit }): the caller may do the action on
 * every target (none: judged with no namespace). protected: anyone signed in, robots included.
 * admin: people with the admin role.
 */
export const publicProcedure = t.procedure.use(mapErrors);

export interface Permission<S extends z.ZodType> {
  /** The procedure's input schema (none: no input). */
  input?: S;
  /** What the action touches: references (their namespace counts) or namespaces; may read the store. */
  targets?: (input: z.output<S>, ctx: Context) => readonly Check[] | Promise<readonly Check[]>;
  /** The audit action of a refusal, e.g. `image.tag`; the procedure's path by default. */
  audit?: string;
}

export function permittedProcedure<S extends z.ZodType = z.ZodVoid>(requirement: Requirement, permission: Permission<S> = {}) {
  return publicProcedure.input((permission.input ?? z.void()) as S).use(async ({ ctx, input, path, type, next }) => {
    const checks = permission.targets ? await permission.targets(input as z.output<S>, ctx) : [];
    const actor = await guard(ctx, requirement, checks, { audit: permission.audit ?? path, auditAnonymous: type === "mutation" });
    return next({ ctx: { ...ctx, actor } });
  });
}

/** Anyone signed in (a robot too); for what needs no permission beyond that. */
export const protectedProcedure = publicProcedure.use(async ({ ctx, path, type, next }) => {
  const actor = ctx.actor ?? (await guard(ctx, "account", [], { audit: path, auditAnonymous: type === "mutation" }));
  return next({ ctx: { ...ctx, actor } });
});

export const adminProcedure = publicProcedure.use(async ({ ctx, path, type, next }) => {
  const actor = await guard(ctx, "admin", [], { audit: path, auditAnonymous: type === "mutation" });
  return next({ ctx: { ...ctx, actor } });
});
