import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { openDirectoryContext } from "../src/build/context/directory-context";
import { openTarContext } from "../src/build/context/tar-context";
import { MemoryBuildCache } from "../src/build/executor/memory-cache";
import type { StepRunner } from "../src/build/executor/types";
import { TagChangeDeniedError, type TagPolicy } from "../src/images/tag-policy";
import { build, entry, imageConfig, layerMembers, makeBaseImage, makeEnv, writeTree } from "./build-executor-helpers";
import { packTar, streamOf } from "./helpers";

const EPOCH = 1_700_000_000;

const DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE=base:1
ARG VERSION=1.0
FROM \${BASE} AS build
ARG VERSION
ENV APP_VERSION=$VERSION
WORKDIR /src
COPY --chown=app:app src/ ./
COPY --chmod=600 conf/*.conf /etc/app/
ADD files.tar.gz /opt/
COPY <<TXT /src/generated.txt
version \${VERSION}
TXT

FROM scratch AS final
LABEL org.example.name="demo"
COPY --from=build /src /app
COPY --from=build --chown=1000:1000 /etc/app/ /etc/app/
WORKDIR /app
USER 1000:1000
EXPOSE 8080/tcp 9090
VOLUME ["/data"]
ENV PATH=/app/bin
SHELL ["/bin/bash", "-c"]
HEALTHCHECK --interval=30s CMD ["/app/health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/bin/server"]
CMD ["--port", "8080"]
ONBUILD COPY . /app/extra
MAINTAINER someone@example.com
`;

async function multiStageEnv(mtime?: Date) {
  const env = await makeEnv();
  await makeBaseImage(env, "base:1", ["LABEL from.trigger=yes"]);
  await writeTree(
    env.dir,
    {
      "src/main.txt": "main\n",
      "src/lib/util.txt": "util\n",
      "conf/a.conf": "a=1\n",
      "conf/b.conf": "b=2\n",
      "conf/skip.txt": "not copied\n",
      "secret.key": "do not send",
      ".dockerignore": "secret.key\n",
    },
    mtime,
  );
  const staging = `${env.dir}-tar`;
  await writeTree(staging, { "pkg/readme": "from the archive\n" });
  // Fixed mtimes and no gzip timestamp: the same archive bytes in every checkout.
  const archive = join(env.dir, "files.tar.gz");
  execFileSync("sh", [
    "-c",
    `tar -cf - --mtime=@1577836800 --owner=7 --group=8 --numeric-owner -C "${staging}" pkg | gzip -n > "${archive}"`,
  ]);
  execFileSync("rm", ["-rf", staging]);
  return env;
}

describe("runBuild: a multi-stage build with every instruction but RUN", () => {
  it("builds, streams docker's output, sets the config, history and layers", async () => {
    const env = await multiStageEnv();
    const result = await build(env, DOCKERFILE, {
      tags: ["demo", "demo:v1"],
      labels: { "com.example.built-by": "berth" },
      sourceDateEpoch: EPOCH,
    });

    const out = env.output;
    expect(out[0]).toBe("Step 1/25 : FROM ${BASE} AS build");
    expect(out).toContain("# Executing 1 build trigger");
    expect(out).toContain("Step 9/25 : FROM scratch AS final");
    expect(out).toContain("Step 25/25 : LABEL com.example.built-by=berth");
    expect(out.filter((l) => l === " ---> Using cache")).toEqual([]);
    expect(out.slice(-3)).toEqual([
      `Successfully built ${result.image.id.short}`,
      "Successfully tagged demo:latest",
      "Successfully tagged demo:v1",
    ]);
    expect(result.tags).toEqual(["demo:latest", "demo:v1"]);
    expect((await env.meta.getTag("docker.io/library/demo", "v1"))?.imageId.equals(result.image.id)).toBe(true);

    const config = await imageConfig(env, result.image.id);
    expect(config.created).toBe("2023-11-14T22:13:20Z");
    expect(config.author).toBe("someone@example.com");
    expect(config.config).toMatchObject({
      Env: ["PATH=/app/bin"],
      WorkingDir: "/app",
      User: "1000:1000",
      ExposedPorts: { "8080/tcp": {}, "9090/tcp": {} },
      Volumes: { "/data": {} },
      Shell: ["/bin/bash", "-c"],
      Healthcheck: { Test: ["CMD", "/app/health"], Interval: 30_000_000_000 },
      StopSignal: "SIGTERM",
      Entrypoint: ["/app/bin/server"],
      Cmd: ["--port", "8080"],
      OnBuild: ["COPY . /app/extra"],
      Labels: { "org.example.name": "demo", "com.example.built-by": "berth" },
    });

    // History: one entry per step of the final stage (scratch has none of its own).
    const history = config.history ?? [];
    expect(history.map((h) => h.created_by)).toEqual([
      "/bin/sh -c #(nop)  LABEL org.example.name=demo",
      expect.stringMatching(/^\/bin\/sh -c #\(nop\) COPY dir:[0-9a-f]{64} in \/app $/),
      expect.stringMatching(/^\/bin\/sh -c #\(nop\) COPY --chown=1000:1000dir:[0-9a-f]{64} in \/etc\/app\/ $/),
      "/bin/sh -c #(nop) WORKDIR /app",
      "/bin/sh -c #(nop)  USER 1000:1000",
      "/bin/sh -c #(nop)  EXPOSE 8080/tcp 9090",
      "/bin/sh -c #(nop)  VOLUME [/data]",
      "/bin/sh -c #(nop)  ENV PATH=/app/bin",
      // The classic builder commits SHELL with the new shell already set.
      "/bin/bash -c #(nop)  SHELL [/bin/bash -c]",
      expect.stringContaining("HEALTHCHECK &{"),
      "/bin/bash -c #(nop)  STOPSIGNAL SIGTERM",
      '/bin/bash -c #(nop)  ENTRYPOINT ["/app/bin/server"]',
      '/bin/bash -c #(nop)  CMD ["--port" "8080"]',
      "/bin/bash -c #(nop)  ONBUILD COPY . /app/extra",
      "/bin/bash -c #(nop)  MAINTAINER someone@example.com",
      "/bin/bash -c #(nop)  LABEL com.example.built-by=berth",
    ]);
    expect(history.map((h) => h.empty_layer ?? false)).toEqual([true, false, false, true, ...Array<boolean>(12).fill(true)]);
    expect(history.every((h) => h.created === "2023-11-14T22:13:20Z")).toBe(true);
    expect(config.rootfs.diff_ids).toHaveLength(2);

    // Layer 1: /app from the build stage's /src, owners kept from that stage (COPY --chown=app:app → 1001:1002).
    const [appLayer, confLayer] = result.image.layers;
    const app = await layerMembers(env, appLayer!.blob);
    expect(app.map((m) => [m.name, m.type, m.uid, m.gid, m.mode.toString(8)])).toEqual([
      ["app/", "directory", 0, 0, "755"],
      ["app/generated.txt", "file", 0, 0, "644"],
      ["app/lib/", "directory", 1001, 1002, "755"],
      ["app/lib/util.txt", "file", 1001, 1002, "644"],
      ["app/main.txt", "file", 1001, 1002, "644"],
    ]);
    expect(app.find((m) => m.name === "app/generated.txt")?.data).toBe("version 1.0\n");
    // Old checkout mtimes stay; nothing is newer than SOURCE_DATE_EPOCH.
    expect(app.find((m) => m.name === "app/main.txt")?.mtime).toBe(Date.parse("2020-01-01T00:00:00Z"));
    expect(Math.max(...app.map((m) => m.mtime))).toBeLessThanOrEqual(EPOCH * 1000);

    const conf = await layerMembers(env, confLayer!.blob);
    expect(conf.map((m) => [m.name, m.uid, m.gid, m.mode.toString(8), m.data])).toEqual([
      ["etc/", 1000, 1000, "755", ""],
      ["etc/app/", 1000, 1000, "755", ""],
      ["etc/app/a.conf", 1000, 1000, "600", "a=1\n"],
      ["etc/app/b.conf", 1000, 1000, "600", "b=2\n"],
    ]);

    // The build stage: trigger, ARG, chown by name, chmod, ADD auto-extract, and the WORKDIR layer.
    const buildStage = result.stages.find((s) => s.name === "build")!;
    const buildConfig = await imageConfig(env, buildStage.imageId!);
    expect(buildConfig.config?.Labels).toEqual({ "from.trigger": "yes" });
    expect(buildConfig.config?.OnBuild ?? null).toBeNull();
    expect(buildConfig.config?.Env).toContain("APP_VERSION=1.0");
    const buildHistory = (buildConfig.history ?? []).slice(1).map((h) => [h.created_by, h.empty_layer ?? false]);
    expect(buildHistory.slice(0, 4)).toEqual([
      ["/bin/sh -c #(nop)  LABEL from.trigger=yes", true],
      ["/bin/sh -c #(nop)  ARG VERSION", true],
      ["/bin/sh -c #(nop)  ENV APP_VERSION=1.0", true],
      ["/bin/sh -c #(nop) WORKDIR /src", false],
    ]);
    const buildImage = (await env.meta.getImage(buildStage.imageId!))!;
    const addLayer = await layerMembers(env, buildImage.layers[4]!.blob);
    expect(addLayer.map((m) => [m.name, m.uid, m.gid, m.data])).toEqual([
      ["opt/", 0, 0, ""],
      ["opt/pkg/", 7, 8, ""],
      ["opt/pkg/readme", 7, 8, "from the archive\n"],
    ]);

    // Parents: each step's image has the previous one as parent.
    expect(result.image.parentId).not.toBeNull();
    const parent = await env.meta.getImage(result.image.parentId!);
    expect(parent?.layers).toHaveLength(2);
  });

  it("takes every step from the cache on a rebuild, and none with noCache", async () => {
    const env = await multiStageEnv();
    const first = await build(env, DOCKERFILE, { sourceDateEpoch: EPOCH });
    const second = await build(env, DOCKERFILE, { sourceDateEpoch: EPOCH });
    expect(second.image.id.equals(first.image.id)).toBe(true);
    // Every step but the two FROMs, plus the base image's trigger.
    expect(env.output.filter((l) => l === " ---> Using cache")).toHaveLength(23);
    expect(second.cachedSteps).toBe(23);

    await writeTree(env.dir, { "conf/b.conf": "b=3\n" });
    const third = await build(env, DOCKERFILE, { sourceDateEpoch: EPOCH });
    expect(third.image.id.equals(first.image.id)).toBe(false);
    const copyConf = env.output.indexOf("Step 6/24 : COPY --chmod=600 conf/*.conf /etc/app/");
    expect(copyConf).toBeGreaterThan(0);
    expect(env.output[copyConf + 1]).not.toBe(" ---> Using cache");
    expect(env.output.slice(0, copyConf).filter((l) => l === " ---> Using cache").length).toBeGreaterThan(3);

    const fresh = await build(env, DOCKERFILE, { sourceDateEpoch: EPOCH, noCache: true });
    expect(env.output).not.toContain(" ---> Using cache");
    // Reproducible: the same context and SOURCE_DATE_EPOCH give the same image without the cache.
    expect(fresh.image.id.equals(third.image.id)).toBe(true);
  });

  it("gives the same image ID from another store with a fresh checkout (newer mtimes) and SOURCE_DATE_EPOCH", async () => {
    // Two checkouts a minute apart: every mtime is newer than SOURCE_DATE_EPOCH, and differs between them.
    const a = await multiStageEnv(new Date());
    const b = await multiStageEnv(new Date(Date.now() + 60_000));
    const one = await build(a, DOCKERFILE, { sourceDateEpoch: EPOCH });
    const two = await build(b, DOCKERFILE, { sourceDateEpoch: EPOCH, cache: new MemoryBuildCache() });
    const history = async (env: typeof a, id: typeof one.image.id) => JSON.stringify(await imageConfig(env, id), null, 1);
    expect(await history(b, two.image.id)).toBe(await history(a, one.image.id));
    expect(two.image.id.toString()).toBe(one.image.id.toString());
  });

  it("--target builds only the stages it needs", async () => {
    const env = await multiStageEnv();
    const result = await build(env, DOCKERFILE, { target: "build", tags: ["only-build"] });
    expect(env.output[0]).toBe("Step 1/8 : FROM ${BASE} AS build");
    expect(env.output.some((l) => l.includes("FROM scratch"))).toBe(false);
    expect(result.stages.map((s) => s.name)).toEqual(["build"]);
    expect((await imageConfig(env, result.image.id)).config?.WorkingDir).toBe("/src");

    // An unused stage is skipped, even when its base image does not exist.
    const skipped = await build(env, "FROM nosuch:1 AS unused\nCOPY x /\n\nFROM base:1\nCOPY src/main.txt /main.txt\n");
    expect(env.output.some((l) => l.includes("nosuch"))).toBe(false);
    expect(skipped.steps).toBe(2);
  });

  it("follows symlinks in the image for the destination and keeps existing directories", async () => {
    const env = await makeEnv();
    await makeBaseImage(env, "base:1");
    await writeTree(env.dir, { "x.sh": { content: "echo\n", mode: 0o755 } });
    const result = await build(env, "FROM base:1\nCOPY x.sh /bin/\nCOPY x.sh /tmp\nWORKDIR /tmp\n");
    const [, first, second] = result.image.layers;
    expect((await layerMembers(env, first!.blob)).map((m) => [m.name, m.mode.toString(8)])).toEqual([
      ["usr/", "755"],
      ["usr/bin/", "755"],
      ["usr/bin/x.sh", "755"],
    ]);
    // /tmp exists as a directory: the file goes inside, and /tmp keeps its 1777.
    expect((await layerMembers(env, second!.blob)).map((m) => [m.name, m.mode.toString(8)])).toEqual([
      ["tmp/", "1777"],
      ["tmp/x.sh", "755"],
    ]);
    const config = await imageConfig(env, result.image.id);
    expect(config.history?.at(-1)).toMatchObject({ created_by: "/bin/sh -c #(nop) WORKDIR /tmp", empty_layer: true });
  });
});

describe("runBuild: RUN", () => {
  it("stops before storing anything when no runner is plugged in, naming the line", async () => {
    const env = await makeEnv();
    await makeBaseImage(env, "base:1");
    const before = (await env.meta.listImages()).length;
    await expect(build(env, "FROM base:1\nENV A=1\nRUN apk add curl\n", { tags: ["x"] })).rejects.toThrow(
      "Dockerfile:3: RUN needs a container runtime, which Berth does not have: RUN apk add curl",
    );
    expect(await env.meta.listImages()).toHaveLength(before);
  });

  it("hands RUN to a plugged-in runner and writes its changes, whiteouts included", async () => {
    const env = await makeEnv();
    await makeBaseImage(env, "base:1");
    const seen: string[][] = [];
    const runner: StepRunner = {
      run(step) {
        seen.push(step.argv, step.env);
        step.onOutput("hello from the runner");
        return Promise.resolve({
          entries: [entry("out.txt", "made by RUN"), { type: "whiteout", path: "usr/bin/tool", mtime: new Date(0) }],
        });
      },
    };
    const result = await build(env, "FROM base:1\nARG FLAVOUR=mild\nRUN make $FLAVOUR\n", { runStep: runner });
    expect(seen[0]).toEqual(["/bin/sh", "-c", "make $FLAVOUR"]);
    expect(seen[1]).toContain("FLAVOUR=mild");
    expect(env.output).toContain("hello from the runner");
    const config = await imageConfig(env, result.image.id);
    expect(config.history?.at(-1)?.created_by).toBe("|1 FLAVOUR=mild /bin/sh -c make $FLAVOUR");
    const members = await layerMembers(env, result.image.layers.at(-1)!.blob);
    expect(members.map((m) => m.name)).toEqual(["out.txt", "usr/bin/.wh.tool"]);
  });
});

describe("runBuild: bad input is refused with the line at fault, nothing tagged or stored", () => {
  const cases: [string, string, string | RegExp, Record<string, unknown>?][] = [
    ["unknown instruction", "FROM base:1\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO"],
    ["unterminated heredoc", "FROM base:1\nCOPY <<END /x\nabc\n", /^Dockerfile:2: .*END/],
    [
      "COPY outside the context",
      "FROM base:1\nENV A=1\nCOPY ../secret /x\n",
      "Dockerfile:3: COPY failed: forbidden path outside the build context: ../secret",
    ],
    [
      "a symlink escaping the context",
      "FROM base:1\nCOPY escape /x\n",
      /^Dockerfile:2: COPY failed: escape: symlink escape -> \.\.\/\.\.\/etc points outside the build context/,
    ],
    [
      "a missing file",
      "FROM base:1\nCOPY nothere /x\n",
      "Dockerfile:2: COPY failed: file not found in build context or excluded by .dockerignore: nothere",
    ],
    [
      "an ignored file",
      "FROM base:1\nCOPY secret.key /x\n",
      "Dockerfile:2: COPY failed: file not found in build context or excluded by .dockerignore: secret.key",
    ],
    [
      "a missing stage",
      "FROM base:1\nCOPY --from=nosuch /a /b\n",
      /^Dockerfile:2: COPY --from=nosuch: base image nosuch could not be found \(there is no stage named "nosuch" either\): No such image: nosuch:latest/,
    ],
    ["a stage index out of range", "FROM base:1\nCOPY --from=3 /a /b\n", /^Dockerfile:2: COPY --from=3: there is no stage 3/],
    ["a missing --target", "FROM base:1\n", 'Dockerfile: target stage "nope" could not be found', { target: "nope" }],
    [
      "a missing base image",
      "FROM base:1 AS a\nFROM nosuch:2\nCOPY a /a\n",
      /^Dockerfile:2: FROM: base image nosuch:2 could not be found: No such image: nosuch:2/,
    ],
    [
      "a cyclic --from",
      "FROM base:1 AS a\nCOPY --from=b /x /x\nFROM base:1 AS b\nCOPY --from=a /y /y\n",
      /^Dockerfile:\d: circular dependency detected on stage: [ab]/,
    ],
    [
      "an ADD of a URL",
      "FROM base:1\nADD https://example.com/x.tgz /x\n",
      /^Dockerfile:2: ADD failed: ADD https:\/\/example.com\/x.tgz: remote URLs are not supported/,
    ],
    [
      "COPY of a URL",
      "FROM base:1\nCOPY https://example.com/x /x\n",
      /^Dockerfile:2: COPY failed: COPY https:\/\/example.com\/x: source can't be a URL for COPY/,
    ],
    [
      "several sources to a file",
      "FROM base:1\nCOPY a b /dest\n",
      /^Dockerfile:2: COPY failed: When using COPY with more than one source file, the destination must be a directory and end with a \//,
    ],
    [
      "a bad --chown name",
      "FROM scratch\nCOPY --chown=nobody a /a\n",
      /^Dockerfile:2: COPY failed: unable to find user nobody: the image has no \/etc\/passwd/,
    ],
  ];
  for (const [what, dockerfile, message, extra] of cases) {
    it(what, async () => {
      const env = await makeEnv();
      await makeBaseImage(env, "base:1");
      await writeTree(env.dir, { a: "a", b: "b", "secret.key": "k", ".dockerignore": "secret.key\n", escape: { symlink: "../../etc" } });
      const before = (await env.meta.listImages()).map((i) => i.id.toString());
      const error = (await build(env, dockerfile, { tags: ["victim:1"], ...extra }).then(
        () => undefined,
        (err: unknown) => err as Error,
      ))!;
      expect(error).toBeInstanceOf(Error);
      if (typeof message === "string") expect(error.message).toBe(message);
      else expect(error.message).toMatch(message);
      expect(await env.meta.getTag("docker.io/library/victim", "1")).toBeUndefined();
      expect((await env.meta.listImages()).map((i) => i.id.toString())).toEqual(before);
    });
  }

  it("a context larger than the limit", async () => {
    const env = await makeEnv();
    await writeTree(env.dir, { big: "x".repeat(5000) });
    await expect(openDirectoryContext(env.dir, { maxBytes: 4096 })).rejects.toThrow(/^build context is larger than 4KiB/);
  });
});

describe("runBuild: sources, platforms, tags", () => {
  it("copies from an image, reads the Dockerfile from a tar context, and warns about unused build args", async () => {
    const env = await makeEnv();
    await makeBaseImage(env, "base:1");
    const tar = await packTar([
      { name: "build/app.Dockerfile", data: Buffer.from("FROM scratch\nCOPY --from=base:1 /etc/passwd /etc/\nCOPY hello.txt /\n") },
      { name: "hello.txt", data: Buffer.from("hi") },
    ]);
    const context = await openTarContext(streamOf(tar));
    const result = await build(env, undefined, {
      dockerfilePath: "build/app.Dockerfile",
      context,
      buildArgs: { UNUSED: "1", HTTP_PROXY: "http://proxy" },
      platform: "linux/arm64/v8",
    });
    const config = await imageConfig(env, result.image.id);
    expect([config.os, config.architecture, config.variant]).toEqual(["linux", "arm64", "v8"]);
    const [passwd, hello] = result.image.layers;
    expect((await layerMembers(env, passwd!.blob)).map((m) => m.name)).toEqual(["etc/", "etc/passwd"]);
    expect((await layerMembers(env, hello!.blob)).map((m) => [m.name, m.data])).toEqual([["hello.txt", "hi"]]);
    expect(env.output).toContain("[Warning] One or more build-args [UNUSED] were not consumed");
  });

  it("names the Dockerfile as given in errors", async () => {
    const env = await makeEnv();
    await writeTree(env.dir, { "build/app.Dockerfile": "FROM scratch\nCOPY missing /\n" });
    await expect(build(env, undefined, { dockerfilePath: "build/app.Dockerfile" })).rejects.toThrow(
      "app.Dockerfile:2: COPY failed: file not found in build context or excluded by .dockerignore: missing",
    );
    await expect(build(env, undefined, { dockerfilePath: "nothere/Dockerfile" })).rejects.toThrow(
      "Cannot locate specified Dockerfile: nothere/Dockerfile",
    );
  });

  it("refuses a bad tag before building anything", async () => {
    const env = await makeEnv();
    await makeBaseImage(env, "base:1");
    const before = (await env.meta.listImages()).length;
    await expect(build(env, "FROM base:1\nENV A=1\n", { tags: ["Bad:Tag"] })).rejects.toThrow(/invalid reference format/);
    expect(await env.meta.listImages()).toHaveLength(before);
  });

  it("extracts a plain tar with ADD but copies it with COPY, and keeps symlinks of copied directories", async () => {
    const env = await makeEnv();
    await writeTree(env.dir, { "tree/a.txt": "a", "tree/link": { symlink: "a.txt" } });
    const archive = await packTar([{ name: "x/y.txt", data: Buffer.from("y") }]);
    await writeFile(join(env.dir, "plain.tar"), archive);
    const result = await build(env, "FROM scratch\nADD plain.tar /unpacked\nCOPY plain.tar /copied.tar\nCOPY tree /tree/\n");
    const [added, copied, tree] = result.image.layers;
    expect((await layerMembers(env, added!.blob)).map((m) => m.name)).toEqual(["unpacked/", "unpacked/x/", "unpacked/x/y.txt"]);
    expect((await layerMembers(env, copied!.blob)).map((m) => m.name)).toEqual(["copied.tar"]);
    expect((await layerMembers(env, tree!.blob)).map((m) => [m.name, m.type, m.linkname])).toEqual([
      ["tree/", "directory", null],
      ["tree/a.txt", "file", null],
      ["tree/link", "symlink", "a.txt"],
    ]);
  });
});

describe("runBuild: triggers, cache and cancellation", () => {
  it("runs an ONBUILD COPY of the base image against the child's context", async () => {
    const env = await makeEnv();
    await makeBaseImage(env, "base:1", ["COPY . /app/extra/", "ENV TRIGGERED=1"]);
    await writeTree(env.dir, { "one.txt": "1" });
    const result = await build(env, 'FROM base:1\nCMD ["run"]\n');
    // The classic builder's lines: the triggers' images are not shown, FROM's line shows the image after them.
    const afterTriggers = (await env.meta.getImage(result.image.parentId!))!.id.short;
    expect(env.output).toEqual([
      "Step 1/2 : FROM base:1",
      "# Executing 2 build triggers",
      ` ---> ${afterTriggers}`,
      'Step 2/2 : CMD ["run"]',
      ` ---> ${result.image.id.short}`,
      `Successfully built ${result.image.id.short}`,
    ]);
    await build(env, 'FROM base:1\nCMD ["run"]\n');
    expect(env.output.slice(0, 5)).toEqual([
      "Step 1/2 : FROM base:1",
      "# Executing 2 build triggers",
      " ---> Using cache",
      " ---> Using cache",
      ` ---> ${afterTriggers}`,
    ]);
    const members = await layerMembers(env, result.image.layers.at(-1)!.blob);
    expect(members.map((m) => m.name)).toEqual(["app/", "app/extra/", "app/extra/one.txt"]);
    const config = await imageConfig(env, result.image.id);
    expect(config.config?.Env).toContain("TRIGGERED=1");
    expect(config.config?.OnBuild ?? null).toBeNull();
  });

  it("does not reuse steps cached without SOURCE_DATE_EPOCH for a reproducible build", async () => {
    const env = await makeEnv();
    await makeBaseImage(env, "base:1");
    await build(env, "FROM base:1\nENV A=1\n");
    const reproducible = await build(env, "FROM base:1\nENV A=1\n", { sourceDateEpoch: EPOCH });
    expect(env.output).not.toContain(" ---> Using cache");
    expect((await imageConfig(env, reproducible.image.id)).created).toBe("2023-11-14T22:13:20Z");
  });

  it("stops when the signal is aborted, tagging nothing", async () => {
    const env = await makeEnv();
    await makeBaseImage(env, "base:1");
    const controller = new AbortController();
    const steps: string[] = [];
    const promise = build(env, "FROM base:1\nENV A=1\nENV B=2\n", {
      tags: ["cancelled"],
      signal: controller.signal,
      onOutput: (line) => {
        steps.push(line);
        if (line.startsWith("Step 2/")) controller.abort(new Error("build cancelled"));
      },
    });
    await expect(promise).rejects.toThrow("build cancelled");
    expect(await env.meta.getTag("docker.io/library/cancelled", "latest")).toBeUndefined();
  });
});

describe("runBuild: tag protection", () => {
  it("asks the tag policy before moving any tag, and moves none when one is refused", async () => {
    const env = await makeEnv();
    const base = await makeBaseImage(env, "base:1");
    await env.meta.setTag("docker.io/library/app", "stable", base.id);
    const policy: TagPolicy = {
      checkTagChange: (change) =>
        change.tag === "stable" ? Promise.reject(new TagChangeDeniedError(`tag ${change.tag} is protected`)) : Promise.resolve(),
    };
    await expect(build(env, "FROM base:1\nENV A=1\n", { tags: ["app:new", "app:stable"], tagPolicy: policy })).rejects.toThrow(
      "tag stable is protected",
    );
    expect(await env.meta.getTag("docker.io/library/app", "new")).toBeUndefined();
    expect((await env.meta.getTag("docker.io/library/app", "stable"))?.imageId.equals(base.id)).toBe(true);
  });
});
