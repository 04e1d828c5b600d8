import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { listRegistries } from "@berth/db";
import { adminProcedure, protectedProcedure } from "../trpc";
import { machineConfig } from "../services/daemon-json";
import {
  listRegistriesFor,
  loginRegistryFor,
  logoutRegistryFor,
  removeRegistryFor,
  saveRegistryFor,
  testMirrorFor,
} from "../services/registries";
import { loginRegistryInput, mirrorUrl, registryDomain, saveRegistryInput } from "./registry-inputs";

/**
 * The team's shared registry configuration: everyone reads it (never a password) and may test
 * a mirror; admins change it. Every change is audited with before/after, secrets redacted.
 */
export const registriesRouter = {
  list: protectedProcedure.query(({ ctx }) => listRegistriesFor(ctx)),

  /** Creates or replaces a registry's mirrors, insecure flag and CA bundle (credentials untouched). */
  save: adminProcedure.input(saveRegistryInput).mutation(({ ctx, input }) => saveRegistryFor(ctx, input)),

  remove: adminProcedure.input(z.object({ domain: registryDomain })).mutation(({ ctx, input }) => removeRegistryFor(ctx, input.domain)),

  login: adminProcedure.input(loginRegistryInput).mutation(({ ctx, input }) => loginRegistryFor(ctx, input)),

  logout: adminProcedure.input(z.object({ domain: registryDomain })).mutation(({ ctx, input }) => logoutRegistryFor(ctx, input.domain)),

  /** Anyone may ask whether a mirror answers: it changes no setting, only its health sample. */
  testMirror: protectedProcedure
    .input(z.object({ domain: registryDomain, url: mirrorUrl }))
    .mutation(({ ctx, input }) => testMirrorFor(ctx, input)),

  /** "Use from your machine": daemon.json for Docker, hosts.toml for containerd. */
  daemonJson: protectedProcedure.query(async ({ ctx }) => machineConfig(await listRegistries(ctx.services.db))),
} satisfies TRPCRouterRecord;
