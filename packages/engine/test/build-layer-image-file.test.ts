import { describe, expect, it } from "vitest";

import { commitImage } from "../src/build/commit-image";
import { importImage } from "../src/build/import-image";
import { readImageFile } from "../src/build/layer/image-file";
import { MemoryMetadataStore } from "../src/memory-metadata-store";
import { compressWith, rawTar } from "./build-layer-helpers";
import { streamOf, tempStore } from "./helpers";

async function layered() {
  const store = await tempStore();
  const meta = new MemoryMetadataStore();
  const base = await rawTar([
    { name: "etc/", type: "directory" },
    { name: "etc/motd", data: "base motd" },
    { name: "etc/keep", data: "kept", mode: 0o600, uid: 7 },
    { name: "etc/hard", type: "link", linkname: "etc/keep" },
    { name: "cache/", type: "directory" },
    { name: "cache/a", data: "a" },
    { name: "big", data: "x".repeat(5000) },
    { name: "sh", type: "symlink", linkname: "/bin/busybox" },
    { name: "dir/sub/file", data: "deep" },
  ]);
  await importImage({ store, meta, input: streamOf(compressWith("zstd", base)), reference: "fs:base" });
  const changes = await rawTar([
    { name: "etc/motd", data: "new motd" },
    { name: "cache/.wh..wh..opq", data: "" },
    { name: "cache/b", data: "b" },
    { name: "dir", data: "now a file" },
  ]);
  const { image } = await commitImage({ store, meta, base: "fs:base", changes: streamOf(changes), deletes: ["/big"] });
  return { store, image, base: (await meta.getTag("docker.io/library/fs", "base"))!.imageId, meta };
}

describe("readImageFile", () => {
  it("reads through the layers as the overlay filesystem shows them", async () => {
    const { store, image } = await layered();
    const read = (path: string) => readImageFile(store, image, path, 1024);
    expect((await read("/etc/motd"))?.content?.toString()).toBe("new motd");
    expect(await read("etc/keep")).toMatchObject({ type: "file", mode: 0o600, uid: 7, content: Buffer.from("kept") });
    expect(await read("etc/hard")).toMatchObject({ type: "link", target: "etc/keep", content: Buffer.from("kept") });
    expect(await read("sh")).toMatchObject({ type: "symlink", target: "/bin/busybox" });
    expect(await read("etc")).toMatchObject({ type: "directory" });
    // Deleted by a whiteout, hidden by an opaque directory, below a directory replaced by a file.
    expect(await read("big")).toBeUndefined();
    expect(await read("cache/a")).toBeUndefined();
    expect((await read("cache/b"))?.content?.toString()).toBe("b");
    expect(await read("dir/sub/file")).toBeUndefined();
    expect(await read("nope")).toBeUndefined();
  });

  it("leaves out the content of a file larger than asked, and refuses paths outside the image", async () => {
    const { store, meta, base } = await layered();
    const image = (await meta.getImage(base))!;
    const big = await readImageFile(store, image, "big", 100);
    expect(big).toMatchObject({ type: "file", size: 5000, tooLarge: true });
    expect(big?.content).toBeUndefined();
    await expect(readImageFile(store, image, "../etc/passwd", 100)).rejects.toThrow(/contains "\.\."/);
    await expect(readImageFile(store, image, "/", 100)).rejects.toThrow(/not the root directory/);
  });
});
