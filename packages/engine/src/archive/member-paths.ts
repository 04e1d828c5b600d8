import { posix } from "node:path";

import { InvalidArchiveError } from "../errors";

/**
 * Names inside an archive, checked before anything is written: a member may never
 * point outside the archive, and the files that describe the images are never links
 * (a link could make manifest.json say one thing to us and another to docker).
 */

/** `./manifest.json` → `manifest.json`; rejects absolute paths and `..` segments. */
export function normalizeMemberName(raw: string): string {
  if (raw.startsWith("/")) throw new InvalidArchiveError(`member "${raw}" has an absolute path`);
  const segments = raw.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw new InvalidArchiveError(`member "${raw}" has a ".." path segment`);
  return segments.join("/");
}

const TOP_LEVEL_METADATA = new Set(["manifest.json", "repositories", "index.json", "oci-layout"]);

/** Files read as JSON (or ignored legacy metadata) rather than stored as blobs. */
export function isMetadataName(name: string): boolean {
  const base = posix.basename(name);
  return TOP_LEVEL_METADATA.has(name) || name.endsWith(".json") || base === "json" || base === "VERSION";
}

/** Metadata that is only read, never stored: configs (`<hex>.json`) are stored too. */
export function isReadOnlyMetadata(name: string): boolean {
  const base = posix.basename(name);
  return TOP_LEVEL_METADATA.has(name) || base === "json" || base === "VERSION";
}

/**
 * Where a link member leads. Symlink targets are relative to the link's directory
 * (skopeo writes `<id>/layer.tar -> ../<diffid>.tar`), hard-link targets to the root.
 */
export function linkTarget(name: string, target: string, kind: "symlink" | "link"): string {
  if (target.startsWith("/")) {
    throw new InvalidArchiveError(`member "${name}" is a ${kind} to the absolute path "${target}"`);
  }
  const joined = kind === "symlink" ? posix.join(posix.dirname(name), target) : posix.normalize(target);
  if (joined === ".." || joined.startsWith("../")) {
    throw new InvalidArchiveError(`member "${name}" is a ${kind} to "${target}", outside the archive`);
  }
  return normalizeMemberName(joined);
}

/** `blobs/sha256/<hex>` → hex; undefined for any other name. */
export function blobPathHex(name: string): string | undefined {
  return /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name)?.[1];
}

/** The digest a member's name claims: `<hex>.json` (legacy config) or `blobs/sha256/<hex>`. */
export function claimedConfigHex(name: string): string | undefined {
  return blobPathHex(name) ?? /^([a-f0-9]{64})\.json$/.exec(name)?.[1];
}
