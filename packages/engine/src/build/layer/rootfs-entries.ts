import { Readable } from "node:stream";

import { InvalidArgumentError } from "../../errors";
import type { DeviceEntry, LayerEntry } from "./entries";
import { normalizeLayerPath, parseWhiteoutName, splitPath, WHITEOUT_PREFIX } from "./paths";
import { describeTarError, type RootfsTar, type TarMember } from "./rootfs-input";

export interface RootfsEntryOptions {
  /** Names the input in messages ("the rootfs tarball"). */
  what: string;
  /**
   * `.wh.` members: "keep" turns them into whiteouts (a commit's changes delete those paths),
   * "drop" leaves them out (an imported rootfs has nothing below it to delete).
   */
  whiteouts: "keep" | "drop";
  /** Called with each path written (normalised, whiteouts aside), e.g. to refuse one that is also deleted. */
  onPath?: (path: string) => void;
}

/** PAX records kept on re-written entries: extended attributes (file capabilities, SELinux labels). */
const KEPT_PAX_PREFIX = "SCHILY.xattr.";

/**
 * Re-writes the members of a user's tarball as layer entries, streamed: names lose leading "/"
 * and "./", ".." is refused, the root directory entry is skipped, owners and times come from
 * PAX records when present. A file's bytes are read straight from the tarball when the layer
 * writer reaches them, so the tarball is never held whole.
 */
export async function* rootfsEntries(tar: RootfsTar, options: RootfsEntryOptions): AsyncIterable<LayerEntry | DeviceEntry> {
  for await (const member of tar.members) {
    let opened = false;
    const open = () => {
      if (opened) throw new Error(`the content of ${JSON.stringify(member.header.name)} can only be read once`);
      opened = true;
      // A wrapper, so that the writer destroying it on failure stops this tar's parser only through
      // the iterator (tar-stream destroys the whole extract when a member is destroyed).
      return Readable.from(body(member, options.what));
    };
    const entry = toEntry(member, options, open);
    if (entry === undefined) {
      await drain(member, options.what);
      continue;
    }
    if (entry.type !== "whiteout") options.onPath?.(entry.path);
    yield entry;
    // The writer reads a file's content in full; anything else (or an unread file) is skipped here.
    if (!opened) await drain(member, options.what);
  }
  await tar.done;
}

function toEntry(member: TarMember, options: RootfsEntryOptions, open: () => Readable): LayerEntry | DeviceEntry | undefined {
  const { header } = member;
  const where = `${options.what}: member ${JSON.stringify(header.name)}`;
  const path = normalizeLayerPath(header.name, `${options.what}: member`);
  if (path === "") return undefined;

  const pax = (header.pax ?? {}) as Record<string, string>;
  const base = {
    path,
    mode: header.mode & 0o7777,
    uid: paxNumber(pax.uid, where) ?? header.uid,
    gid: paxNumber(pax.gid, where) ?? header.gid,
    mtime: paxTime(pax.mtime, where) ?? header.mtime,
  };
  const kept = Object.fromEntries(Object.entries(pax).filter(([key]) => key.startsWith(KEPT_PAX_PREFIX)));
  const withPax = Object.keys(kept).length > 0 ? { ...base, pax: kept } : base;

  const [, name] = splitPath(path);
  if (name.startsWith(WHITEOUT_PREFIX)) {
    if (options.whiteouts === "drop") return undefined;
    const whiteout = parseWhiteoutName(path)!;
    if (whiteout.path === "" && !whiteout.opaque) throw new InvalidArgumentError(`${where} is a whiteout without a name`);
    // aufs' own metadata (.wh..wh.plnk, .wh..wh.aufs) means nothing in an OCI layer.
    if (!whiteout.opaque && name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return undefined;
    if (whiteout.path === "") throw new InvalidArgumentError(`${where}: an opaque whiteout of the root directory is not allowed`);
    return { type: "whiteout", path: whiteout.path, opaque: whiteout.opaque, mtime: base.mtime };
  }

  switch (header.type) {
    case "file":
    case "contiguous-file":
      return { ...withPax, type: "file", size: header.size, open };
    case "directory":
      return { ...withPax, type: "directory" };
    case "symlink":
      if (!header.linkname) throw new InvalidArgumentError(`${where} is a symlink without a target`);
      return { ...withPax, type: "symlink", target: header.linkname };
    case "link":
      if (!header.linkname) throw new InvalidArgumentError(`${where} is a hard link without a target`);
      return { ...withPax, type: "link", target: normalizeLayerPath(header.linkname, `${where}: hard link target`) };
    case "character-device":
    case "block-device":
    case "fifo":
      return { ...withPax, type: header.type, devmajor: header.devmajor, devminor: header.devminor };
    default:
      throw new InvalidArgumentError(`${where} is a ${String(header.type)} entry, which a layer cannot hold`);
  }
}

function paxNumber(value: string | undefined, where: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${where}: PAX value ${JSON.stringify(value)} is not a valid id`);
  return n;
}

function paxTime(value: string | undefined, where: string): Date | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds)) throw new InvalidArgumentError(`${where}: PAX mtime ${JSON.stringify(value)} is not a time`);
  return new Date(Math.floor(seconds) * 1000);
}

async function drain(member: TarMember, what: string): Promise<void> {
  for await (const chunk of body(member, what)) void chunk;
}

/** A member's bytes; a parser error met while reading them names the member. */
async function* body(member: TarMember, what: string): AsyncIterable<Buffer> {
  try {
    for await (const chunk of member) yield chunk;
  } catch (err) {
    throw describeTarError(err, what, member.header.name);
  }
}
