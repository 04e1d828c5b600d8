/**
 * Conformance of Berth's daemonless build with a reference builder: the fixtures under
 * fixtures/build/ are built by runBuild and by buildah (`--format docker`, vfs storage in a
 * private root; no RUN, so no container runtime is involved), then configs, history and the
 * unpacked file trees (umoci) are compared. Where buildah is known to differ from docker the
 * comparison normalises (see build-conformance-tools.ts) and the docker behaviour is asserted
 * on Berth's image directly.
 */
import { execFileSync } from "node:child_process";
import { chmod, chown, cp, link, mkdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

import { openDirectoryContext } from "../src/build/context/directory-context";
import { MemoryBuildCache } from "../src/build/executor/memory-cache";
import { runBuild } from "../src/build/executor/run-build";
import { writeLayer } from "../src/build/layer/layer-writer";
import { storeImage } from "../src/build/store-image";
import { FsBlobStore } from "../src/fs-blob-store";
import { parseConfig } from "../src/image-model";
import { resolveImage } from "../src/images/resolve";
import { MemoryMetadataStore } from "../src/memory-metadata-store";
import type { ImageRecord } from "../src/metadata";
import {
  Buildah,
  type DockerConfig,
  ensureTools,
  exportLayout,
  createdBy,
  historySteps,
  readTree,
  runtimeConfig,
  skopeoInspect,
  type TreeNode,
  umociUnpack,
} from "./build-conformance-tools";
import { tempDir } from "./helpers";

const FIXTURES = join(import.meta.dirname, "fixtures", "build");
const MTIME = new Date("2020-01-01T00:00:00Z");

let work: string;
let buildah: Buildah;
let store: FsBlobStore;
const meta = new MemoryMetadataStore();
const cache = new MemoryBuildCache();

beforeAll(async () => {
  ensureTools();
  work = await tempDir("berth-conformance-", "file");
  buildah = new Buildah(join(work, "buildah"));
  store = new FsBlobStore(await tempDir("berth-conformance-blobs-", "file"));
});

/** A fixture copied to a scratch directory (so neither builder writes into the repo), with fixed mtimes. */
async function fixtureContext(name: string): Promise<string> {
  const dir = join(work, `ctx-${name}`);
  await cp(join(FIXTURES, name), dir, { recursive: true, verbatimSymlinks: true });
  execFileSync("find", [dir, "-exec", "touch", "-h", "-d", MTIME.toISOString(), "{}", "+"]);
  return dir;
}

async function berthBuild(
  contextDir: string,
  tag: string,
  buildArgs: Record<string, string> = {},
): Promise<{ image: ImageRecord; output: string[] }> {
  const output: string[] = [];
  const context = await openDirectoryContext(contextDir);
  try {
    const result = await runBuild({
      store,
      meta,
      cache,
      context,
      tags: [tag],
      buildArgs,
      resolveBaseImage: (ref) => resolveImage({ meta, ref }),
      onOutput: (line) => output.push(line),
      tmpDir: work,
    });
    return { image: result.image, output };
  } finally {
    await context.close();
  }
}

/** The stored config JSON exactly as written (not through parseConfig, which keeps extras but types them). */
async function berthConfig(image: ImageRecord): Promise<DockerConfig> {
  return JSON.parse((await store.read(image.id, 1 << 20)).toString("utf8")) as DockerConfig;
}

/** Berth's image as an OCI layout, checked with skopeo, unpacked with umoci. */
async function berthTree(image: ImageRecord, name: string): Promise<Record<string, TreeNode>> {
  const layout = join(work, `berth-layout-${name}`);
  await exportLayout(store, image, `conformance/${name}:1`, layout);
  const inspected = skopeoInspect(`oci:${layout}:1`);
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  expect(inspected.Digest).toBe(index.manifests[0]!.digest);
  // writeArchive writes layers uncompressed: their digests are the diff_ids.
  expect(inspected.Layers).toEqual(image.layers.map((l) => l.diffId.toString()));
  expect([inspected.Os, inspected.Architecture]).toEqual([image.os, image.architecture]);
  const rootfs = join(work, `berth-rootfs-${name}`);
  umociUnpack(`${layout}:1`, rootfs);
  return readTree(rootfs);
}

function buildahTree(ref: string, name: string): Promise<Record<string, TreeNode>> {
  const layout = join(work, `buildah-layout-${name}`);
  buildah.pushLayout(ref, `${layout}:1`);
  const rootfs = join(work, `buildah-rootfs-${name}`);
  umociUnpack(`${layout}:1`, rootfs);
  return readTree(rootfs);
}

/** Where buildah 1.28 is known to differ from docker: rewrites its result into docker's before comparing. */
interface BuildahQuirks {
  config?(config: Record<string, unknown>): void;
  tree?(tree: Record<string, TreeNode>): void;
}

/** Config, history and files of Berth's build against buildah's build of the same context. */
async function compareWithBuildah(
  image: ImageRecord,
  ref: string,
  name: string,
  quirks: BuildahQuirks = {},
): Promise<Record<string, TreeNode>> {
  const ours = await berthConfig(image);
  const theirs = buildah.dockerConfig(ref);
  if (theirs.config) quirks.config?.(theirs.config);
  // buildah moves a redefined variable to the end of Env; docker replaces it in place. Env is
  // compared as a set here, its order is asserted on Berth's config in each test.
  for (const config of [ours.config, theirs.config]) if (Array.isArray(config?.Env)) config.Env = [...(config.Env as string[])].sort();
  expect(runtimeConfig(ours.config)).toEqual(runtimeConfig(theirs.config));
  expect([ours.os, ours.architecture, ours.author]).toEqual([theirs.os, theirs.architecture, theirs.author]);
  // WORKDIR: docker commits the directory it creates as a layer (empty_layer false when it did not
  // exist, true otherwise); buildah always records an empty layer and creates it in the next layer.
  const steps = (history: DockerConfig["history"]) =>
    historySteps(history).map(([empty, what]) => [what === "WORKDIR" ? "?" : empty, what]);
  expect(steps(ours.history)).toEqual(steps(theirs.history));
  const workdirLayers = historySteps(ours.history).filter(([empty, what]) => what === "WORKDIR" && !empty).length;
  expect(ours.rootfs.diff_ids.length).toBe(theirs.rootfs.diff_ids.length + workdirLayers);

  const tree = await berthTree(image, name);
  const reference = await buildahTree(ref, name);
  // buildah creates a WORKDIR's directory only when a later step writes into the image; docker
  // (ContainerCreateWorkdir) creates it at the WORKDIR step, so a final WORKDIR exists in docker's image.
  const workdir = ((ours.config?.WorkingDir as string | undefined) ?? "").replace(/^\/+/, "");
  if (workdir && !reference[workdir]) reference[workdir] = dir();
  quirks.tree?.(reference);
  expect.soft(tree).toEqual(reference);
  return tree;
}

/**
 * The history docker's classic builder writes for fixtures/build/base plus the cleanup layer, as
 * [empty_layer, created_by]: two spaces after #(nop) for metadata steps, one for COPY/ADD/WORKDIR,
 * values after quote removal.
 */
const BASE_HISTORY: [boolean, string][] = [
  [false, "/bin/sh -c #(nop) COPY dir:<hash> in / "],
  [true, "/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8"],
  [true, "/bin/sh -c #(nop)  LABEL org.opencontainers.image.title=conformance base maintainer.team=berth"],
  [true, "/bin/sh -c #(nop)  MAINTAINER Berth Tests <tests@berth.invalid>"],
  [true, "/bin/sh -c #(nop)  ONBUILD LABEL built.on=base"],
  [true, "/bin/sh -c #(nop)  ONBUILD ENV FROM_BASE=yes"],
  [true, '/bin/sh -c #(nop)  CMD ["/bin/sh"]'],
  [false, "/bin/sh -c rm -rf /opt/old/removed.txt /var/cache/*"],
];
/** Each FROM base:1 runs its two ONBUILD triggers, each committed like the instruction itself. */
const TRIGGER_HISTORY: [boolean, string][] = [
  [true, "/bin/sh -c #(nop)  LABEL built.on=base"],
  [true, "/bin/sh -c #(nop)  ENV FROM_BASE=yes"],
];

function file(content: string, mode = "0644", owner = "0:0"): TreeNode {
  return { type: "file", mode, owner, content };
}
function dir(mode = "0755", owner = "0:0"): TreeNode {
  return { type: "dir", mode, owner };
}

/**
 * The base for the fixtures that build FROM a local image: fixtures/build/base built by Berth
 * plus a layer that deletes, as `RUN rm` would leave. buildah gets exactly these bytes through
 * an OCI layout written by writeArchive, so both builders start from the same image.
 */
async function makeBase(built: ImageRecord): Promise<ImageRecord> {
  const cleanup = await writeLayer(store, [
    { type: "whiteout", path: "opt/old/removed.txt", mtime: MTIME },
    { type: "directory", path: "var/cache", mode: 0o755, uid: 0, gid: 0, mtime: MTIME },
    { type: "whiteout", path: "var/cache", opaque: true, mtime: MTIME },
  ]);
  const parent = parseConfig(await store.read(built.id, 1 << 20));
  const base = await storeImage(
    store,
    meta,
    {
      ...parent,
      rootfs: { type: "layers", diff_ids: [...parent.rootfs.diff_ids, cleanup.diffId] },
      history: [
        ...(parent.history ?? []),
        { created: MTIME.toISOString(), created_by: "/bin/sh -c rm -rf /opt/old/removed.txt /var/cache/*" },
      ],
    },
    [...built.layers, cleanup],
    { parentId: built.id },
  );
  await meta.setTag("docker.io/library/base", "1", base.id);
  const layout = join(work, "base-layout");
  await exportLayout(store, base, "base:1", layout);
  buildah.importLayout(`${layout}:1`, "localhost/base:1");
  return base;
}

describe("build conformance with buildah (docker format, no RUN)", () => {
  let built: { image: ImageRecord; output: string[] };
  let baseCtx: string;
  beforeAll(async () => {
    baseCtx = await fixtureContext("base");
    // The root of the image must stay 0755 whatever the mode of the directory copied onto it.
    await chmod(join(baseCtx, "rootfs"), 0o700);
    built = await berthBuild(baseCtx, "conformance-base:1");
    await makeBase(built.image);
  });

  it("FROM scratch: COPY of a directory, ENV, LABEL, ONBUILD, CMD; Berth's OCI layout imports into buildah", async () => {
    expect(built.output.at(-1)).toBe("Successfully tagged conformance-base:1");
    buildah.bud(baseCtx, "localhost/conformance-base:1");
    const base = await resolveImage({ meta, ref: "base:1" });
    expect(runtimeConfig(buildah.dockerConfig("localhost/base:1").config)).toEqual(runtimeConfig((await berthConfig(base)).config));

    const tree = await compareWithBuildah(built.image, "localhost/conformance-base:1", "base");
    expect(tree["."]).toEqual(dir());
    expect((await berthConfig(built.image)).author).toBe("Berth Tests <tests@berth.invalid>");
    expect(tree["bin/sh"]).toEqual(file('#!/bin/sh\necho "not a real shell"\n', "0755"));
    expect(tree["opt/old/removed.txt"]?.type).toBe("file");
    expect(tree["lib"]).toEqual({ type: "symlink", mode: "0777", owner: "0:0", content: "usr/lib" });
    expect(tree["var/run"]).toEqual({ type: "symlink", mode: "0777", owner: "0:0", content: "/run" });

    const config = await berthConfig(built.image);
    expect(config.config?.OnBuild).toEqual(["LABEL built.on=base", "ENV FROM_BASE=yes"]);
    // docker's classic builder's texts (two spaces after #(nop) for metadata steps, values after quote removal).
    expect(createdBy(config.history)).toEqual(BASE_HISTORY.slice(0, -1));
  });

  it("FROM a local image: every metadata instruction, globs, --chown, --chmod, ADD archives, .dockerignore", async () => {
    const ctx = await fixtureContext("app");
    await chmod(join(ctx, "src"), 0o700);
    await chmod(join(ctx, "src", "lib"), 0o750);
    // Context files owned by someone else: COPY without --chown makes them root's.
    await chown(join(ctx, "hello.txt"), 4321, 4321);
    // Archives made here with fixed owners and mtimes: one with a "./" root entry (tar -C dir .),
    // a hard link and a symlink; gzip and xz ones without.
    await chmod(join(ctx, "vendor"), 0o750);
    await link(join(ctx, "vendor", "LICENSE"), join(ctx, "vendor", "LICENSE.hard"));
    await symlink("lib.txt", join(ctx, "vendor", "pkg", "lib-link"));
    const tarArgs = ["--owner=7", "--group=8", "--numeric-owner", `--mtime=${MTIME.toISOString()}`, "--sort=name"];
    execFileSync("tar", ["-cf", join(ctx, "vendor.tar"), ...tarArgs, "-C", join(ctx, "vendor"), "."]);
    execFileSync("sh", ["-c", `tar -cf - ${tarArgs.join(" ")} -C "${ctx}/vendor" pkg | gzip -n > "${ctx}/vendor.tar.gz"`]);
    execFileSync("sh", ["-c", `tar -cf - ${tarArgs.join(" ")} -C "${ctx}/vendor" pkg | xz > "${ctx}/vendor.tar.xz"`]);

    const built = await berthBuild(ctx, "conformance-app:1");
    expect(built.output).toContain("# Executing 2 build triggers");
    buildah.bud(ctx, "localhost/conformance-app:1");
    const tree = await compareWithBuildah(built.image, "localhost/conformance-app:1", "app", {
      // buildah applies the archive's "./" entry (0750, 7:8) to the existing target; docker skips it.
      tree: (t) => {
        t["opt/vendor"] = dir();
      },
    });

    // docker's texts: COPY/ADD name the destination as written in the Dockerfile, and `--chown=`
    // runs into the source hash (moby#45472, unchanged in the classic builder).
    expect.soft(createdBy((await berthConfig(built.image)).history)).toEqual([
      ...BASE_HISTORY,
      ...TRIGGER_HISTORY,
      [true, "/bin/sh -c #(nop)  ARG VERSION=1.2.3"],
      [true, "/bin/sh -c #(nop)  ARG UNSET"],
      [true, "/bin/sh -c #(nop)  ARG PORT=8080"],
      [true, "/bin/sh -c #(nop)  ENV APP_VERSION=1.2.3 APP_HOME=/srv/app UNSET_DEFAULT=fallback"],
      [true, "/bin/sh -c #(nop)  ENV LEGACY=value with  spaces"],
      [true, "/bin/sh -c #(nop)  LABEL org.opencontainers.image.version=1.2.3 multi word=a b c"],
      [false, "/bin/sh -c #(nop) WORKDIR /srv/app"],
      [false, "/bin/sh -c #(nop) COPY multi:<hash> in ./ "],
      [false, "/bin/sh -c #(nop) COPY dir:<hash> in ./src/ "],
      [false, "/bin/sh -c #(nop) COPY --chown=app:staffdir:<hash> in /etc/app/ "],
      [false, "/bin/sh -c #(nop) COPY --chown=1234:5678file:<hash> in /etc/app/token "],
      [false, "/bin/sh -c #(nop) COPY file:<hash> in /etc/app/followed.txt "],
      [false, "/bin/sh -c #(nop) COPY file:<hash> in /etc "],
      [false, "/bin/sh -c #(nop) COPY multi:<hash> in /usr/local/bin/ "],
      [false, "/bin/sh -c #(nop) ADD file:<hash> in /opt/vendor/ "],
      [false, "/bin/sh -c #(nop) ADD file:<hash> in /opt/vendor-gz "],
      [false, "/bin/sh -c #(nop) ADD file:<hash> in /opt/vendor-xz/ "],
      [false, "/bin/sh -c #(nop) COPY dir:<hash> in /opt/copied-old "],
      [true, "/bin/sh -c #(nop)  USER app:app"],
      [true, "/bin/sh -c #(nop)  EXPOSE 8080 53/udp 9000/tcp"],
      [true, "/bin/sh -c #(nop)  VOLUME [/data /cache]"],
      [true, "/bin/sh -c #(nop)  STOPSIGNAL SIGQUIT"],
      // After SHELL, the nop prefix is the new shell; HEALTHCHECK is printed as Go's %q of the struct.
      [true, "/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]"],
      [true, `/bin/sh -ec #(nop)  HEALTHCHECK &{["CMD" "/usr/local/bin/run.sh" "health"] "30s" "5s" "10s" "0s" '\\x04'}`],
      [true, '/bin/sh -ec #(nop)  ENTRYPOINT ["/usr/local/bin/run.sh"]'],
      [true, '/bin/sh -ec #(nop)  CMD ["serve" "--port" "8080"]'],
      [true, "/bin/sh -ec #(nop)  ONBUILD COPY . /srv/app/extra"],
      [false, "/bin/sh -ec #(nop) WORKDIR /srv/app/logs"],
    ]);
    const config = (await berthConfig(built.image)).config!;
    expect(runtimeConfig(config)).toEqual({
      Env: [
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "LANG=C.UTF-8",
        "FROM_BASE=yes",
        "APP_VERSION=1.2.3",
        "APP_HOME=/srv/app",
        "UNSET_DEFAULT=fallback",
        "LEGACY=value with  spaces",
      ],
      Labels: {
        "org.opencontainers.image.title": "conformance base",
        "maintainer.team": "berth",
        "built.on": "base",
        "org.opencontainers.image.version": "1.2.3",
        "multi word": "a b c",
      },
      WorkingDir: "/srv/app/logs",
      User: "app:app",
      ExposedPorts: { "8080/tcp": {}, "53/udp": {}, "9000/tcp": {} },
      Volumes: { "/data": {}, "/cache": {} },
      Cmd: ["serve", "--port", "8080"],
      Entrypoint: ["/usr/local/bin/run.sh"],
      Healthcheck: { Test: ["CMD", "/usr/local/bin/run.sh", "health"], Interval: 30e9, Timeout: 5e9, StartPeriod: 10e9, Retries: 4 },
      StopSignal: "SIGQUIT",
      OnBuild: ["COPY . /srv/app/extra"],
      Shell: ["/bin/sh", "-ec"],
    });

    // What docker puts where, asserted on Berth's files whatever buildah does.
    expect(tree["srv/app/hello.txt"]).toEqual(file("hello\n"));
    expect(tree["srv/app/README.md"]).toEqual(file("readme\n"));
    expect(tree["srv/app/NOTES.md"]).toBeUndefined();
    // The directory a directory COPY creates is 0755 whatever the source's mode; what is below keeps its mode.
    expect.soft(tree["srv/app/src"]).toEqual(dir());
    expect(tree["srv/app/src/lib"]).toEqual(dir("0750"));
    expect(tree["srv/app/src/lib/util.txt"]).toEqual(file("util\n"));
    expect(tree["srv/app/src/lib/.util.txt.swp"]).toBeUndefined();
    // Symlinks inside a copied directory stay symlinks; a symlink named as the source is followed.
    expect(tree["srv/app/src/main-link"]).toEqual({ type: "symlink", mode: "0777", owner: "0:0", content: "main.txt" });
    expect(tree["srv/app/src/current"]).toEqual({ type: "symlink", mode: "0777", owner: "0:0", content: "lib" });
    expect(tree["etc/app/followed.txt"]).toEqual(file("main\n"));
    // An existing directory as destination without a trailing slash: the file goes inside.
    expect(tree["etc/hello.txt"]).toEqual(file("hello\n"));
    expect(tree["srv/app/logs"]).toEqual(dir());
    expect(tree["etc/app/app.conf"]).toEqual(file("listen=8080\n", "0644", "1001:50"));
    expect(tree["etc/app/conf.d"]).toEqual(dir("0755", "1001:50"));
    expect(tree["etc/app/token"]).toEqual(file("s3cret\n", "0640", "1234:5678"));
    expect(tree["usr/local/bin/run.sh"]).toEqual(file('#!/bin/sh\nexec "$@"\n', "0755"));
    expect(tree["usr/local/bin/prod.env"]).toEqual(file("A=1\n", "0755"));
    // ADD extracts local archives keeping the archive's owners. docker creates the target directory
    // (root, 0755) and skips the archive's "./" entry when the target exists (pkg/archive Unpack).
    expect.soft(tree["opt/vendor"]).toEqual(dir());
    expect(tree["opt/vendor/pkg/lib.txt"]).toEqual(file("vendored\n", "0644", "7:8"));
    expect(tree["opt/vendor/LICENSE"]).toEqual(file("license\n", "0644", "7:8"));
    expect(tree["opt/vendor/LICENSE.hard"]).toEqual(file("license\n", "0644", "7:8"));
    expect(tree["opt/vendor/pkg/lib-link"]).toEqual({ type: "symlink", mode: "0777", owner: "7:8", content: "lib.txt" });
    expect(tree["opt/vendor-gz/pkg/lib.txt"]).toEqual(file("vendored\n", "0644", "7:8"));
    expect(tree["opt/vendor-xz/pkg/lib.txt"]).toEqual(file("vendored\n", "0644", "7:8"));
    expect(tree["opt/vendor.tar"]).toBeUndefined();
    // Deleted in the base's last layer: gone from the image and from what COPY --from copies.
    expect(tree["opt/old/removed.txt"]).toBeUndefined();
    expect(tree["opt/old/keep.txt"]).toEqual(file("kept\n"));
    expect(tree["opt/copied-old/keep.txt"]).toEqual(file("kept\n"));
    expect(tree["opt/copied-old/removed.txt"]).toBeUndefined();
    expect(tree["var/cache"]).toEqual(dir());
    expect(tree["var/cache/stale"]).toBeUndefined();
  });

  it("multi-stage: stages by name and index, a scratch stage, COPY --from with --chown, --chmod and globs", async () => {
    const ctx = await fixtureContext("multistage");
    const built = await berthBuild(ctx, "conformance-multi:1");
    buildah.bud(ctx, "localhost/conformance-multi:1");
    const tree = await compareWithBuildah(built.image, "localhost/conformance-multi:1", "multi", {
      // buildah ignores SHELL for a shell-form ENTRYPOINT; docker (and the Dockerfile reference) use it.
      config: (config) => {
        config.Entrypoint = ["/bin/sh", "-ec", "exec cat main.txt"];
      },
    });

    expect(tree["app/main.txt"]).toEqual(file("main\n"));
    expect(tree["app/lib/two.txt"]).toEqual(file("lib two\n"));
    // COPY --from without --chown keeps the owners the files have in the source stage.
    expect(tree["app/owned"]).toEqual(dir("0755", "1001:50"));
    expect(tree["app/owned/one.txt"]).toEqual(file("lib one\n", "0644", "1001:50"));
    expect(tree["usr/share/assets/site.css"]).toEqual(file("a {\n  color: red;\n}\n", "0644", "1001:1002"));
    expect(tree["usr/share/assets"]).toEqual(dir("0755", "1001:1002"));
    expect(tree["usr/share"]).toEqual(dir());
    expect(tree["usr/share/assets/img"]).toEqual(dir("0755", "1001:1002"));
    expect(tree["single/main.txt"]).toEqual(file("main\n"));
    expect(tree["single/one.txt"]).toEqual(file("lib one\n"));
    expect(tree["private/logo.svg"]).toEqual(file("<svg/>\n", "0600"));
    expect(tree["copied/passwd"]?.content).toContain("app:x:1001:1002");
    expect(tree["work"]).toBeUndefined();

    expect.soft(createdBy((await berthConfig(built.image)).history)).toEqual([
      ...BASE_HISTORY,
      ...TRIGGER_HISTORY,
      [false, "/bin/sh -c #(nop) COPY dir:<hash> in /app "],
      [false, "/bin/sh -c #(nop) COPY --chown=1001:1002dir:<hash> in /usr/share/assets/ "],
      [false, "/bin/sh -c #(nop) COPY multi:<hash> in /single/ "],
      [false, "/bin/sh -c #(nop) COPY dir:<hash> in /private "],
      [false, "/bin/sh -c #(nop) COPY file:<hash> in /copied/passwd "],
      // /app exists (the COPY above made it): docker's WORKDIR commits an empty layer.
      [true, "/bin/sh -c #(nop) WORKDIR /app"],
      [true, "/bin/sh -c #(nop)  ARG GREETING"],
      [true, "/bin/sh -c #(nop)  LABEL greeting=hello"],
      [true, "/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]"],
      [true, '/bin/sh -ec #(nop)  ENTRYPOINT ["/bin/sh" "-ec" "exec cat main.txt"]'],
    ]);
    const config = (await berthConfig(built.image)).config!;
    expect(config.Env).toEqual(["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "FROM_BASE=yes"]);
    expect(config.WorkingDir).toBe("/app");
    expect(config.Labels).toMatchObject({ greeting: "hello" });
    // Shell form under SHELL; ENTRYPOINT without a CMD in the stage drops the base image's CMD.
    expect(config.Entrypoint).toEqual(["/bin/sh", "-ec", "exec cat main.txt"]);
    expect(config.Cmd ?? null).toBeNull();
  });

  it("COPY onto the base image's files: through relative and absolute directory symlinks, merging, replacing", async () => {
    const ctx = await fixtureContext("overlay");
    await chmod(join(ctx, "tools", "suid"), 0o4755);
    await chmod(join(ctx, "doc"), 0o700);
    await mkdir(join(ctx, "tools", "empty"), { mode: 0o700 });
    await chmod(join(ctx, "tools", "empty"), 0o700);
    const built = await berthBuild(ctx, "conformance-overlay:1", { FLAVOR: "custom" });
    buildah.bud(ctx, "localhost/conformance-overlay:1", { FLAVOR: "custom" });
    const tree = await compareWithBuildah(built.image, "localhost/conformance-overlay:1", "overlay", {
      // buildah's COPY drops setuid/setgid bits; docker's tar copy and BuildKit keep the mode whole.
      tree: (t) => {
        if (t["opt/tools/suid"]) t["opt/tools/suid"].mode = "4755";
      },
    });

    // Destinations resolve symlinks inside the image (merged /usr): the links stay links.
    expect(tree["lib"]).toEqual({ type: "symlink", mode: "0777", owner: "0:0", content: "usr/lib" });
    expect(tree["var/run"]).toEqual({ type: "symlink", mode: "0777", owner: "0:0", content: "/run" });
    expect(tree["usr/lib/extra"]).toEqual(dir());
    expect(tree["usr/lib/extra/libextra.so"]).toEqual(file("extra library\n"));
    expect(tree["usr/lib/libbase.so"]).toEqual(file("base library\n"));
    // --chown on an existing destination directory: its contents change owner, the directory does not.
    expect(tree["run"]).toEqual(dir());
    expect(tree["run/app.pid"]).toEqual(file("42\n", "0644", "33:33"));
    expect(tree["usr/share/doc/base/README"]).toEqual(file("replaced documentation\n"));
    expect(tree["usr/share/doc/NEW"]).toEqual(file("new doc\n"));
    // Copying a directory's contents into an existing directory leaves that directory as it was.
    expect.soft(tree["usr/share/doc"]).toEqual(dir());
    expect(tree["bin/sh"]).toEqual(file("#!/bin/sh\necho replaced\n", "0700"));
    // --chmod applies to the directories copied too (BuildKit's semantics; the classic builder has no
    // --chmod), but not to the destination directory the COPY creates (fsutil's MkdirAll 0755).
    expect.soft(tree["etc/conf"]).toEqual(dir("0755"));
    expect(tree["etc/conf/sub"]).toEqual(dir("0750"));
    expect(tree["etc/conf/sub/b.conf"]).toEqual(file("b\n", "0750"));
    expect(tree["opt/tools/suid"]).toEqual(file("suid tool\n", "4755"));
    expect(tree["opt/tools/empty"]).toEqual(dir("0700"));
    expect(tree["opt/notes.txt"]).toEqual(file("plain text, not an archive\n"));
    const config = (await berthConfig(built.image)).config!;
    expect(config.Env).toEqual(["PATH=/opt/tools:/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "FROM_BASE=yes", "FLAVOR=custom"]);

    expect
      .soft(createdBy((await berthConfig(built.image)).history))
      .toEqual([
        ...BASE_HISTORY,
        ...TRIGGER_HISTORY,
        [true, "/bin/sh -c #(nop)  ARG FLAVOR=default"],
        [false, "/bin/sh -c #(nop) COPY dir:<hash> in /lib/extra/ "],
        [false, "/bin/sh -c #(nop) COPY file:<hash> in /var/run/ "],
        [false, "/bin/sh -c #(nop) COPY dir:<hash> in /usr/share/doc/ "],
        [false, "/bin/sh -c #(nop) COPY file:<hash> in /bin/sh "],
        [false, "/bin/sh -c #(nop) COPY --chown=33:33dir:<hash> in /var/run/ "],
        [false, "/bin/sh -c #(nop) COPY dir:<hash> in /etc/conf/ "],
        [false, "/bin/sh -c #(nop) COPY dir:<hash> in /opt/tools/ "],
        [false, "/bin/sh -c #(nop) ADD file:<hash> in /opt/ "],
        [true, "/bin/sh -c #(nop)  ENV PATH=/opt/tools:/usr/local/bin:/usr/bin:/bin FLAVOR=custom"],
      ]);
  });
});
