import type { RouterOutputs } from "@berth/api";

/** A registry as the page shows it (never the password: the API does not send it). */
export type RegistryRow = RouterOutputs["registries"]["list"][number];
export type MirrorRow = RegistryRow["mirrors"][number];

/** The first validation message the server wrote, else the error's own message (shared by every form). */
export { apiErrorMessage as registryErrorMessage } from "~/lib/errors";
