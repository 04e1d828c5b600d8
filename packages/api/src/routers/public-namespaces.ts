import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { listPublicNamespaces, makePrivate, makePublic } from "../services/public-namespaces";
import { namespaceInput } from "../services/tag-rules";
import { permittedProcedure, protectedProcedure } from "../trpc";

const namespace = z.object({ namespace: namespaceInput });
/** Named in the audit of a refusal (`namespace:team-a`); the action concerns no namespace, so it is judged globally. */
const targets = (input: { namespace: string }) => [{ namespace: input.namespace }];

/**
 * Public namespaces: anyone signed in sees which namespaces anonymous callers may pull from;
 * only an admin changes that (`public-namespaces`). Each change is audited with before/after.
 */
export const publicNamespacesRouter = {
  list: protectedProcedure.query(({ ctx }) => listPublicNamespaces(ctx)),

  add: permittedProcedure("public-namespaces", { input: namespace, targets, audit: "namespace.public.add" }).mutation(({ ctx, input }) =>
    makePublic(ctx, input.namespace),
  ),

  remove: permittedProcedure("public-namespaces", { input: namespace, targets, audit: "namespace.public.remove" }).mutation(
    ({ ctx, input }) => makePrivate(ctx, input.namespace),
  ),
} satisfies TRPCRouterRecord;
