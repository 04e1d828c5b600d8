import type { RouterOutputs } from "@berth/api";
import { errorMessage } from "~/lib/format";

/** A registry as the page shows it (never the password: the API does not send it). */
export type RegistryRow = RouterOutputs["registries"]["list"][number];
export type MirrorRow = RegistryRow["mirrors"][number];

/**
 * The message to show for a failed call: the first validation message the server wrote
 * (`mirror "…": a path is not allowed`), else the error's own message.
 */
export function registryErrorMessage(error: unknown): string {
  const z = (error as { data?: { zodError?: { formErrors: string[]; fieldErrors: Record<string, string[] | undefined> } | null } } | null)
    ?.data?.zodError;
  if (z) {
    const first = z.formErrors[0] ?? Object.values(z.fieldErrors).flat()[0];
    if (first) return first;
  }
  return errorMessage(error);
}
