import type { BlobStore } from "../blob-store";
import type { Digest } from "../digest";
import { EngineError, InvalidArchiveError } from "../errors";
import { linkTarget } from "./member-paths";
import type { StoredMember } from "./store-member";

/** A member as the reader remembers it after the streaming pass. */
export type Member =
  { kind: "metadata"; bytes: Buffer } | { kind: "blob"; stored: StoredMember } | { kind: "link"; type: "symlink" | "link"; target: string };

const MAX_LINK_HOPS = 8;

/**
 * Everything the single pass collected, with lookups that explain what is missing:
 * manifest.json and index.json are resolved against this once the tar has ended.
 */
export class ArchiveMembers {
  readonly byName = new Map<string, Member>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly maxJsonBytes: number,
  ) {}

  has(name: string): boolean {
    return this.byName.has(name);
  }

  metadata(name: string): Buffer | undefined {
    const member = this.byName.get(name);
    if (member === undefined) return undefined;
    if (member.kind === "metadata") return member.bytes;
    throw new InvalidArchiveError(`member "${name}" must be a regular file`);
  }

  /** The stored blob a path from manifest.json/index.json names, following layer symlinks. */
  blob(name: string, role: string, opts: { allowLinks: boolean }): { name: string; stored: StoredMember } {
    let current = name;
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const member = this.byName.get(current);
      if (member === undefined) {
        throw new InvalidArchiveError(
          current === name
            ? `${role} "${name}" is not in the archive`
            : `${role} "${name}" links to "${current}", which is not in the archive`,
        );
      }
      if (member.kind === "blob") return { name: current, stored: member.stored };
      if (member.kind === "metadata") throw new InvalidArchiveError(`${role} "${name}" is a metadata file, not a blob`);
      if (!opts.allowLinks) {
        throw new InvalidArchiveError(`${role} "${name}" is a ${member.type}; it must be a regular file`);
      }
      current = linkTarget(current, member.target, member.type);
    }
    throw new InvalidArchiveError(`${role} "${name}": more than ${MAX_LINK_HOPS} links in a row (a link loop?)`);
  }

  /** The bytes of a JSON blob, read back from the store under the JSON size cap. */
  async json(name: string, role: string, stored: StoredMember): Promise<Buffer> {
    if (stored.bytes) return stored.bytes;
    try {
      return await this.blobs.read(stored.digest, this.maxJsonBytes);
    } catch (err) {
      if (err instanceof EngineError && err.code === "TOO_LARGE") {
        throw new EngineError(
          "TOO_LARGE",
          `invalid archive: ${role} "${name}" is ${stored.size} bytes, more than the ${this.maxJsonBytes}-byte limit for JSON`,
        );
      }
      throw err;
    }
  }

  /** Blob member `blobs/sha256/<hex>` for a descriptor's digest. */
  blobByDigest(digest: Digest, role: string): { name: string; stored: StoredMember } {
    return this.blob(`blobs/sha256/${digest.hex}`, role, { allowLinks: true });
  }

  /** Every blob this pass stored, by digest. */
  storedDigests(): Digest[] {
    const digests = new Map<string, Digest>();
    for (const member of this.byName.values()) {
      if (member.kind === "blob") digests.set(member.stored.digest.hex, member.stored.digest);
    }
    return [...digests.values()];
  }
}
