import { EngineError } from "../errors";
import type { Descriptor, Platform } from "../image-model";

/** No entry of a manifest list matches the platform asked for; `available` lists what there is. */
export class NoMatchingPlatformError extends EngineError {
  constructor(
    readonly wanted: Platform,
    readonly available: Platform[],
    subject: string,
  ) {
    super(
      "NOT_FOUND",
      `no matching manifest for ${platformString(wanted)} in the manifest list entries of ${subject} (available: ${
        available.length ? available.map(platformString).join(", ") : "none"
      })`,
    );
  }
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/**
 * The manifest for a platform, as containerd's default matcher picks it: same os and
 * architecture; a requested variant must match (arm64 without a variant is v8); without one,
 * an entry without a variant wins over the others, else the first one listed.
 */
export function selectPlatform(manifests: Descriptor[], wanted: Platform, subject: string): Descriptor {
  const variant = (p: Platform) => p.variant ?? (p.architecture === "arm64" ? "v8" : undefined);
  const candidates = manifests.filter(
    (m) =>
      m.platform &&
      m.platform.os === wanted.os &&
      m.platform.architecture === wanted.architecture &&
      (wanted.variant === undefined || variant(m.platform) === variant(wanted)),
  );
  const chosen = candidates.find((m) => variant(m.platform!) === variant(wanted)) ?? candidates[0];
  if (!chosen) {
    const available = manifests.map((m) => m.platform).filter((p): p is Platform => p !== undefined && p.os !== "unknown");
    throw new NoMatchingPlatformError(wanted, available, subject);
  }
  return chosen;
}
