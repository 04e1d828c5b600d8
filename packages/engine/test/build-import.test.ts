import { describe, expect, it } from "vitest";

import { importImage, parsePlatformOption } from "../src/build/import-image";
import { parseConfig } from "../src/image-model";
import { TagChangeDeniedError } from "../src/images/tag-policy";
import { MemoryMetadataStore } from "../src/memory-metadata-store";
import { blobBytes, compressWith, rawTar, readTarMembers } from "./build-layer-helpers";
import { storeFiles, streamOf, tempStore } from "./helpers";

const NOW = new Date("2026-11-26T09:00:00.000Z");

async function rootfs() {
  return rawTar([
    { name: "./", type: "directory" },
    { name: "./bin/", type: "directory" },
    { name: "./bin/sh", data: "#!shell", mode: 0o755 },
    { name: "./etc/hostname", data: "box\n" },
  ]);
}

async function setup() {
  return { store: await tempStore(), meta: new MemoryMetadataStore() };
}

describe("importImage", () => {
  it("makes a one-layer image with docker import's config and history, and tags it", async () => {
    const { store, meta } = await setup();
    const { image, tagged } = await importImage({
      store,
      meta,
      input: streamOf(compressWith("gzip", await rootfs())),
      reference: "team/base:1",
      now: NOW,
    });
    expect(tagged).toEqual({ repository: "docker.io/team/base", tag: "1", display: "team/base:1" });
    expect(await meta.getTag("docker.io/team/base", "1")).toMatchObject({ imageId: image.id });
    expect(image.layers).toHaveLength(1);
    expect(image.parentId).toBeNull();
    expect(image.lastTagTime).toEqual(NOW);

    const config = JSON.parse((await store.read(image.id, 1 << 20)).toString()) as Record<string, unknown>;
    expect(config).toEqual({
      architecture: "amd64",
      os: "linux",
      created: NOW.toISOString(),
      config: {},
      rootfs: { type: "layers", diff_ids: [image.layers[0]!.diffId.toString()] },
      history: [{ created: NOW.toISOString(), created_by: "", comment: "Imported from -" }],
    });
    const members = await readTarMembers(await blobBytes(store, image.layers[0]!.blob));
    expect(members.map((m) => m.name)).toEqual(["bin/", "bin/sh", "etc/hostname"]);
  });

  it("applies -c changes, -m and --platform", async () => {
    const { store, meta } = await setup();
    const { image, tagged } = await importImage({
      store,
      meta,
      input: streamOf(compressWith("zstd", await rootfs())),
      changes: ["ENV PATH=/bin", 'CMD ["/bin/sh"]', "EXPOSE 8080/tcp", "LABEL team=a"],
      message: "base from tarball",
      platform: "linux/arm/v7",
      now: NOW,
    });
    expect(tagged).toBeUndefined();
    const config = parseConfig(await store.read(image.id, 1 << 20));
    expect(config).toMatchObject({ architecture: "arm", os: "linux", variant: "v7" });
    expect(config.config).toMatchObject({ Env: ["PATH=/bin"], Cmd: ["/bin/sh"], ExposedPorts: { "8080/tcp": {} }, Labels: { team: "a" } });
    expect(config.history).toEqual([{ created: NOW.toISOString(), created_by: "", comment: "base from tarball" }]);
    expect(image.labels).toEqual({ team: "a" });
    expect(image).toMatchObject({ architecture: "arm", variant: "v7" });
  });

  it("gives the same image ID for the same input and time", async () => {
    const { store, meta } = await setup();
    const a = await importImage({ store, meta, input: streamOf(await rootfs()), now: NOW });
    const b = await importImage({ store, meta, input: streamOf(compressWith("xz", await rootfs())), now: NOW });
    expect(b.image.id.equals(a.image.id)).toBe(true);
  });

  it("refuses bad options before reading, and bad input after, storing nothing", async () => {
    const { store, meta } = await setup();
    const input = async () => streamOf(await rootfs());
    const bad: [Parameters<typeof importImage>[0], RegExp][] = [
      [{ store, meta, input: await input(), changes: ["RUN echo hi"] }, /run is not a valid change command/],
      [{ store, meta, input: await input(), changes: ["ENV"] }, /invalid change "ENV"/],
      [{ store, meta, input: await input(), platform: "linux/amd64/v1/x" }, /invalid platform/],
      [{ store, meta, input: await input(), reference: "Bad:Name" }, /invalid reference format/],
      [{ store, meta, input: await input(), reference: `a@sha256:${"0".repeat(64)}` }, /digest reference/],
      [{ store, meta, input: streamOf(Buffer.from("not a tarball, just words")) }, /the rootfs tarball is not a tar archive/],
      [{ store, meta, input: streamOf(await rawTar([{ name: "../escape", data: "x" }])) }, /contains "\.\."/],
    ];
    for (const [options, message] of bad) await expect(importImage(options)).rejects.toThrow(message);
    expect(await storeFiles(store)).toEqual([]);
    expect(await meta.listImages()).toEqual([]);
  });

  it("asks the tag policy before moving a tag", async () => {
    const { store, meta } = await setup();
    await importImage({ store, meta, input: streamOf(await rootfs()), reference: "app:prod", now: NOW });
    const policy = {
      checkTagChange: () => Promise.reject(new TagChangeDeniedError("app:prod is protected")),
    };
    const other = await rawTar([{ name: "x", data: "y" }]);
    await expect(importImage({ store, meta, input: streamOf(other), reference: "app:prod", policy, now: NOW })).rejects.toThrow(
      "protected",
    );
  });

  it("parses --platform like containerd", () => {
    expect(parsePlatformOption(undefined)).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatformOption("linux/x86_64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatformOption("linux/aarch64/v8")).toEqual({ os: "linux", architecture: "arm64" });
    expect(parsePlatformOption("Linux/ARM64/v9")).toEqual({ os: "linux", architecture: "arm64", variant: "v9" });
    expect(() => parsePlatformOption("linux//")).toThrow(/invalid platform/);
  });
});
