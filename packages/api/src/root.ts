import { auditRouter } from "./routers/audit";
import { authRouter, tokensRouter } from "./routers/auth";
import { imagesRouter } from "./routers/images";
import { jobsRouter } from "./routers/jobs";
import { systemRouter } from "./routers/system";
import { createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  auth: authRouter,
  tokens: tokensRouter,
  images: imagesRouter,
  system: systemRouter,
  audit: auditRouter,
  jobs: jobsRouter,
});

export type AppRouter = typeof appRouter;
