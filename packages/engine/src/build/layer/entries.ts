import type { Readable } from "node:stream";

/** What a layer tar holds, one entry at a time, in the order written. Paths are relative, "/"-separated, no "./". */
interface EntryBase {
  path: string;
  /** Permission bits (and setuid/setgid/sticky), e.g. 0o755. */
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** PAX extended attributes (e.g. xattrs `SCHILY.xattr.*`), if any. */
  pax?: Record<string, string>;
}

export interface FileEntry extends EntryBase {
  type: "file";
  size: number;
  /** Opened when the writer reaches the entry, so only one file is open at a time. */
  open(): Readable | Promise<Readable>;
}
export interface DirectoryEntry extends EntryBase {
  type: "directory";
}
export interface SymlinkEntry extends EntryBase {
  type: "symlink";
  target: string;
}
export interface HardlinkEntry extends EntryBase {
  type: "link";
  /** Path of an earlier entry in the same layer. */
  target: string;
}
/** Deletes `path` from lower layers: written as `.wh.<name>` (or `.wh..wh..opq` for an opaque directory). */
export interface WhiteoutEntry {
  type: "whiteout";
  path: string;
  /** Opaque: hide everything below directory `path` in lower layers, keep the directory. */
  opaque?: boolean;
  mtime: Date;
}

export type LayerEntry = FileEntry | DirectoryEntry | SymlinkEntry | HardlinkEntry | WhiteoutEntry;

/**
 * A device node or FIFO, as rootfs tarballs (debootstrap, busybox) carry in /dev. Only import and
 * commit pass them on; kept out of LayerEntry so code that builds layers from files need not handle them.
 */
export interface DeviceEntry extends EntryBase {
  type: "character-device" | "block-device" | "fifo";
  devmajor: number;
  devminor: number;
}

export interface WriteLayerOptions {
  /** Default: OCI gzip layer (application/vnd.oci.image.layer.v1.tar+gzip). */
  mediaType?: string;
  /** gzip level; fixed so the same entries give the same blob. Default 6 (docker's DefaultCompression). */
  gzipLevel?: number;
  signal?: AbortSignal;
  /**
   * The entries' files may be opened in any order (context files, spooled files): the next few
   * small ones are then read while earlier ones are written. Not for entries taken one by one from
   * a tar stream, whose `open` is only valid until the next entry is taken.
   */
  readAhead?: boolean;
}
