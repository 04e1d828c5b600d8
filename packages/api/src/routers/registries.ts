import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { listRegistries } from "@berth/db";
import { permittedProcedure } from "../trpc";
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
  list: permittedProcedure("read").query(({ ctx }) => listRegistriesFor(ctx)),

  /** Creates or replaces a registry's mirrors, insecure and mirrors-only flags and CA bundle (credentials untouched). */
  save: permittedProcedure("registries", { input: saveRegistryInput, audit: "registry.save" }).mutation(({ ctx, input }) =>
    saveRegistryFor(ctx, input),
  ),

  remove: permittedProcedure("registries", { input: z.object({ domain: registryDomain }), audit: "registry.remove" }).mutation(
    ({ ctx, input }) => removeRegistryFor(ctx, input.domain),
  ),

  login: permittedProcedure("registries", { input: loginRegistryInput, audit: "registry.login" }).mutation(({ ctx, input }) =>
    loginRegistryFor(ctx, input),
  ),

  logout: permittedProcedure("registries", { input: z.object({ domain: registryDomain }), audit: "registry.logout" }).mutation(
    ({ ctx, input }) => logoutRegistryFor(ctx, input.domain),
  ),

  /** Anyone may ask whether a mirror answers: it changes no setting, only its health sample. */
  testMirror: permittedProcedure("read", {
    input: z.object({ domain: registryDomain, url: mirrorUrl }),
    audit: "registry.mirror.test",
  }).mutation(({ ctx, input }) => testMirrorFor(ctx, input)),

  /** "Use from your machine": daemon.json for Docker, hosts.toml for containerd. */
  daemonJson: permittedProcedure("read").query(async ({ ctx }) => machineConfig(await listRegistries(ctx.services.db), ctx.baseUrl)),
} satisfies TRPCRouterRecord;
