import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "./root";

export { appRouter, type AppRouter } from "./root";
export { createCallerFactory } from "./trpc";
export { createContext, SESSION_COOKIE, type Context, type Services, type RequestInfo } from "./context";
export { HTTP_STATUS, toTRPCError } from "./errors";
export { ensureAdmin, signIn, signOut } from "./services/auth";
export {
  ACTIONS,
  ROLES,
  GRANT_ROLES,
  ROBOT_ACTIONS,
  authorize,
  can,
  explain,
  namespaceOf,
  effectiveRole,
  PermissionDenied,
  type Action,
  type Decision,
  type PermissionSummary,
  type PermissionTarget,
} from "./auth/permissions";
export { actorFromCredentials, auditActorName, type Actor, type Role, type GrantRole, type RobotAction } from "./auth/actor";
export { guard, type Check, type Requirement } from "./auth/guard";
export { loadArchiveFor, saveImagesFor, checkSaveable } from "./services/archives";
export { importImageFor, commitImageFor } from "./services/image-edit";
export type { ImageEditResult, ImportRequest, CommitRequest } from "./services/image-edit";
export { exportAudit } from "./services/audit-export";
export { auditFilter, type AuditFilter } from "./routers/audit";

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export { bootServer, type BootOptions, type Booted } from "./boot";
export { readServerEnv, type ServerEnv } from "./env";
export { handleApiRequest } from "./http/handlers";
export { createApiServer, toFetchRequest, sendFetchResponse } from "./http/node";
