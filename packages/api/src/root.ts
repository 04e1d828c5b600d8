import { auditRouter } from "./routers/audit";
import { authRouter, tokensRouter } from "./routers/auth";
import { imagesRouter } from "./routers/images";
import { jobsRouter } from "./routers/jobs";
import { protectionRouter } from "./routers/protection";
import { publicNamespacesRouter } from "./routers/public-namespaces";
import { registriesRouter } from "./routers/registries";
import { searchRouter } from "./routers/search";
import { systemRouter } from "./routers/system";
import { usersRouter } from "./routers/users";
import { createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  auth: authRouter,
  tokens: tokensRouter,
  images: imagesRouter,
  system: systemRouter,
  audit: auditRouter,
  jobs: jobsRouter,
  registries: registriesRouter,
  search: searchRouter,
  users: usersRouter,
  protection: protectionRouter,
  publicNamespaces: publicNamespacesRouter,
});

export type AppRouter = typeof appRouter;
