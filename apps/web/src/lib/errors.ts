import { errorMessage } from "./format";

type ZodFlat = { formErrors: string[]; fieldErrors: Record<string, string[] | undefined> };

/**
 * The message to show for a failed call: the first validation message the server wrote
 * (`"Erin" is not a valid username: …`), else the error's own message.
 */
export function apiErrorMessage(error: unknown): string {
  const z = (error as { data?: { zodError?: ZodFlat | null } } | null)?.data?.zodError;
  if (z) {
    const first = z.formErrors[0] ?? Object.values(z.fieldErrors).flat()[0];
    if (first) return first;
  }
  return errorMessage(error);
}
