import { mkdir, symlink, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";

import { openDirectoryContext } from "../src/build/context/directory-context";
import type { BuildContext } from "../src/build/context/types";
import { MemoryBuildCache } from "../src/build/executor/memory-cache";
import { runBuild } from "../src/build/executor/run-build";
import type { BuildResult, RunBuildOptions } from "../src/build/executor/types";
import type { LayerEntry } from "../src/build/layer/entries";
import { writeLayer } from "../src/build/layer/layer-writer";
import { storeImage } from "../src/build/store-image";
import type { Digest } from "../src/digest";
import type { FsBlobStore } from "../src/fs-blob-store";
import { type ImageConfig, parseConfig } from "../src/image-model";
import { resolveImage } from "../src/images/resolve";
import { MemoryMetadataStore } from "../src/memory-metadata-store";
import type { ImageRecord } from "../src/metadata";
import { readTarMembers, type ReadMember } from "./build-layer-helpers";
import { tempDir, tempStore } from "./helpers";

export type TreeSpec = Record<string, string | { content: string; mode?: number } | { symlink: string } | { dir: true; mode?: number }>;

/** Writes files, directories and symlinks under `root`, all with the same old mtime (like a checkout). */
export async function writeTree(root: string, tree: TreeSpec, mtime = new Date("2020-01-01T00:00:00Z")): Promise<void> {
  for (const [path, spec] of Object.entries(tree)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    if (typeof spec === "string") await writeFile(full, spec);
    else if ("symlink" in spec) {
      await symlink(spec.symlink, full);
      continue;
    } else if ("dir" in spec) await mkdir(full, { recursive: true, mode: spec.mode ?? 0o755 });
    else await writeFile(full, spec.content, { mode: spec.mode ?? 0o644 });
    await utimes(full, mtime, mtime);
  }
}

export interface Env {
  store: FsBlobStore;
  meta: MemoryMetadataStore;
  cache: MemoryBuildCache;
  dir: string;
  output: string[];
}

export async function makeEnv(): Promise<Env> {
  return {
    store: await tempStore(),
    meta: new MemoryMetadataStore(),
    cache: new MemoryBuildCache(),
    dir: await tempDir("berth-ctx-"),
    output: [],
  };
}

export function entry(path: string, content: string, extra: Partial<LayerEntry> = {}): LayerEntry {
  const data = Buffer.from(content);
  return {
    type: "file",
    path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: new Date("2021-01-01T00:00:00Z"),
    size: data.length,
    open: () => Readable.from([data]),
    ...extra,
  } as LayerEntry;
}

export function dirEntry(path: string, mode = 0o755): LayerEntry {
  return { type: "directory", path, mode, uid: 0, gid: 0, mtime: new Date("2021-01-01T00:00:00Z") };
}

/** A small base image (passwd, group, /tmp 1777, /bin -> usr/bin) tagged `name`, optionally with ONBUILD triggers. */
export async function makeBaseImage(env: Env, name: string, onBuild: string[] = []): Promise<ImageRecord> {
  const layer = await writeLayer(env.store, [
    dirEntry("etc"),
    entry("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n"),
    entry("etc/group", "root:x:0:\napp:x:1002:\nstaff:x:50:\n"),
    dirEntry("tmp", 0o1777),
    dirEntry("usr"),
    dirEntry("usr/bin"),
    entry("usr/bin/tool", "#!/bin/sh\n", { mode: 0o755 }),
    { type: "symlink", path: "bin", target: "usr/bin", mode: 0o777, uid: 0, gid: 0, mtime: new Date("2021-01-01T00:00:00Z") },
  ]);
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    created: "2021-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], Cmd: ["/bin/sh"], ...(onBuild.length ? { OnBuild: onBuild } : {}) },
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
    history: [{ created: "2021-01-01T00:00:00Z", created_by: "/bin/sh -c #(nop) ADD file:base in / " }],
  };
  const record = await storeImage(env.store, env.meta, config, [layer]);
  const [repo, tag = "latest"] = name.split(":");
  await env.meta.setTag(`docker.io/library/${repo}`, tag, record.id);
  return record;
}

export async function build(
  env: Env,
  dockerfile: string | undefined,
  options: Partial<RunBuildOptions> & { context?: BuildContext } = {},
): Promise<BuildResult> {
  env.output = [];
  const context = options.context ?? (await openDirectoryContext(env.dir));
  try {
    return await runBuild({
      store: env.store,
      meta: env.meta,
      cache: env.cache,
      context,
      ...(dockerfile === undefined ? {} : { dockerfile }),
      tags: [],
      resolveBaseImage: (ref) => resolveImage({ meta: env.meta, ref }),
      onOutput: (line) => env.output.push(line),
      ...options,
    });
  } finally {
    await context.close();
  }
}

export async function imageConfig(env: Env, id: Digest): Promise<ImageConfig> {
  return parseConfig(await env.store.read(id, 1 << 20));
}

/** A layer member with its contents as text and its permission bits only. */
export type Member = Omit<ReadMember, "pax" | "data"> & { data: string };

/** A layer blob's members (gunzipped), contents as text, permission bits only. */
export async function layerMembers(env: Env, blob: Digest): Promise<Member[]> {
  const members = await readTarMembers(await env.store.read(blob, 64 << 20));
  return members.map(({ pax: _pax, ...m }) => ({ ...m, mode: m.mode & 0o7777, data: m.data.toString("utf8") }));
}
