/**
 * 1. INITIALISATION
 * One tRPC instance with our JSON transformer (dates cross the wire intact) and an
 * error formatter that keeps the engine's message as the user-facing text.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { transformer } from "./transformer";
import { ZodError } from "zod";
import type { Context } from "./context";
import { EngineError } from "@berth/engine";
import { toTRPCError } from "./errors";

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
 * public: sign-in and health only. protected: any signed-in person or token.
 * admin: people with the admin role.
 */
export const publicProcedure = t.procedure.use(mapErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.actor) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  return next({ ctx: { ...ctx, actor: ctx.actor } });
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.actor.role !== "admin") {
    throw new TRPCError({ code: "FORBIDDEN", message: "only an admin can do this" });
  }
  return next();
});
