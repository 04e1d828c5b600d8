/**
 * Reference tools for build-conformance.test.ts: buildah (the Debian package, vfs storage in a
 * private root, no RUN so no runtime needed), umoci to unpack OCI layouts, skopeo to inspect them.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { PassThrough } from "node:stream";

import { writeArchive } from "../src/archive/write-archive";
import type { BlobStore } from "../src/blob-store";
import type { ImageRecord } from "../src/metadata";

/** Installs the reference tools when missing (CI images built before they were added), like the web tests do for chromium. */
export function ensureTools(): void {
  const missing = ["buildah", "umoci", "skopeo"].filter((tool) => !existsSync(`/usr/bin/${tool}`));
  if (missing.length > 0) execFileSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit" });
}

/** buildah with its own storage under `dir`, so nothing touches the machine's containers storage. */
export class Buildah {
  constructor(private readonly dir: string) {}

  run(...args: string[]): string {
    const storage = ["--root", join(this.dir, "root"), "--runroot", join(this.dir, "runroot"), "--storage-driver", "vfs"];
    return execFileSync("buildah", [...storage, ...args], { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] });
  }

  /**
   * `--layers`: one image per step, like docker's classic builder, so the history's empty_layer
   * pattern is docker's (with --layers=false buildah squashes the whole stage into one layer that
   * it hangs on the last history entry). `--identity-label=false`: no io.buildah.version label.
   */
  bud(contextDir: string, tag: string, buildArgs: Record<string, string> = {}): void {
    const args = Object.entries(buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]);
    this.run("bud", "--format", "docker", "--layers", "--identity-label=false", "--pull=never", "-q", ...args, "-t", tag, contextDir);
  }

  /** The image's docker-format config (what `docker inspect` shows as Config, ContainerConfig, history...). */
  dockerConfig(ref: string): DockerConfig {
    const inspected = JSON.parse(this.run("inspect", "--type", "image", ref)) as { Docker: DockerConfig };
    return inspected.Docker;
  }

  /**
   * Imports an OCI layout image (e.g. one Berth wrote) as `name`. Through skopeo: `buildah pull
   * oci:DIR` names the image after DIR, which fails on a temp dir with capitals in its name.
   */
  importLayout(layoutRef: string, name: string): void {
    const storage = `containers-storage:[vfs@${join(this.dir, "root")}+${join(this.dir, "runroot")}]${name}`;
    execFileSync("skopeo", ["--insecure-policy", "copy", "-q", `oci:${layoutRef}`, storage], { stdio: ["ignore", "pipe", "pipe"] });
  }

  pushLayout(ref: string, layoutRef: string): void {
    this.run("push", "-q", ref, `oci:${layoutRef}`);
  }
}

export interface DockerConfig {
  architecture: string;
  os: string;
  author?: string;
  config?: Record<string, unknown>;
  rootfs: { diff_ids: string[] };
  history?: { created_by?: string; empty_layer?: boolean; comment?: string }[];
}

/** Writes Berth's image as an OCI image layout directory (docker save's layout, unpacked), tagged `tag`. */
export async function exportLayout(blobs: BlobStore, image: ImageRecord, repoTag: string, dir: string): Promise<void> {
  const file = `${dir}.tar`;
  const out = new PassThrough();
  await Promise.all([writeArchive([{ image, repoTags: [repoTag] }], { blobs, out }), pipeline(out, createWriteStream(file))]);
  execFileSync("mkdir", ["-p", dir]);
  execFileSync("tar", ["-xf", file, "-C", dir]);
  execFileSync("rm", ["-f", file]);
}

/** Unpacks `layout:tag` into `rootfs` keeping owners (as root, not --rootless, so uid/gid survive). */
export function umociUnpack(layoutRef: string, rootfs: string): void {
  execFileSync("umoci", ["raw", "unpack", "--image", layoutRef, rootfs], { stdio: ["ignore", "pipe", "pipe"] });
}

export function skopeoInspect(ref: string): { Digest: string; Layers: string[]; Architecture: string; Os: string } {
  return JSON.parse(execFileSync("skopeo", ["--insecure-policy", "inspect", ref], { encoding: "utf8" })) as never;
}

/** One path of an unpacked root filesystem: what a container would see (mtimes left out). */
export interface TreeNode {
  type: "file" | "dir" | "symlink" | "other";
  mode: string;
  owner: string;
  content?: string;
}

/** Every path under `root` (relative, sorted; "." for the root itself) with type, permission bits, uid:gid and contents. */
export async function readTree(root: string): Promise<Record<string, TreeNode>> {
  const tree: Record<string, TreeNode> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(full);
      const node: TreeNode = {
        type: st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other",
        mode: (st.mode & 0o7777).toString(8).padStart(4, "0"),
        owner: `${st.uid}:${st.gid}`,
      };
      if (st.isFile()) node.content = await readFile(full, "utf8");
      if (st.isSymbolicLink()) node.content = await readlink(full);
      tree[path] = node;
      if (st.isDirectory()) await walk(full, path);
    }
  };
  const st = await lstat(root);
  tree["."] = { type: "dir", mode: (st.mode & 0o7777).toString(8).padStart(4, "0"), owner: `${st.uid}:${st.gid}` };
  await walk(root, "");
  return tree;
}

/** The runtime config fields a Dockerfile sets, as docker users see them. */
const RUNTIME_FIELDS = [
  "Env",
  "Labels",
  "WorkingDir",
  "User",
  "ExposedPorts",
  "Volumes",
  "Cmd",
  "Entrypoint",
  "Healthcheck",
  "StopSignal",
  "OnBuild",
  "Shell",
] as const;

/**
 * The Dockerfile-set part of `config`, with absent, null, "" and empty lists/maps all meaning
 * "not set": buildah writes `"Entrypoint": []` and `"Volumes": {}` where docker writes null or
 * nothing, which docker treats alike.
 */
export function runtimeConfig(config: Record<string, unknown> | undefined): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const field of RUNTIME_FIELDS) {
    const value = config?.[field];
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) continue;
    picked[field] = value;
  }
  return picked;
}

/** History as `[empty_layer, created_by]`, with each builder's own content hash (`COPY file:<hex> in /x`) blanked. */
export function createdBy(history: { created_by?: string; empty_layer?: boolean }[] | undefined): [boolean, string][] {
  return (history ?? []).map((h) => [
    h.empty_layer === true,
    (h.created_by ?? "").replace(/(file|dir|multi):[0-9a-f]{64}\b/g, "$1:<hash>"),
  ]);
}

/**
 * History as [empty_layer, instruction] (the command for a non-#(nop) entry). Only the
 * instruction is compared with buildah: its created_by text is not docker's. Docker's classic
 * builder writes `#(nop)  ENV` with two spaces, the expanded ENV/ARG/LABEL values, VOLUME and
 * SHELL with %v, HEALTHCHECK as a Go struct, `--chown=u:g` in COPY, and the SHELL in force as the
 * prefix; buildah 1.28 writes the Dockerfile's text (even `ARG VERSION` for `ARG VERSION=1.2.3`).
 * Berth's exact texts are asserted against docker's in the test.
 */
export function historySteps(history: { created_by?: string; empty_layer?: boolean }[] | undefined): [boolean, string][] {
  return (history ?? []).map((h) => {
    const text = h.created_by ?? "";
    const nop = /#\(nop\)\s+(\S+)/.exec(text);
    return [h.empty_layer === true, nop ? nop[1]! : text];
  });
}
