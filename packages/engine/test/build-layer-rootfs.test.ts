import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { writeLayer } from "../src/build/layer/layer-writer";
import { rootfsEntries } from "../src/build/layer/rootfs-entries";
import { openRootfsTar } from "../src/build/layer/rootfs-input";
import { decompress } from "../src/build/layer/decompress";
import type { FsBlobStore } from "../src/fs-blob-store";
import { blobBytes, compressWith, collect, rawTar, readTarMembers, T0, type RawMember } from "./build-layer-helpers";
import { storeFiles, streamOf, tempStore } from "./helpers";

const WHAT = "the rootfs tarball";

const ROOTFS: RawMember[] = [
  { name: "./", type: "directory" },
  { name: "./etc/", type: "directory" },
  { name: "./etc/os-release", data: "ID=berth\n", mode: 0o644 },
  { name: "/usr/bin/tool", data: "#!/bin/sh\n", mode: 0o755, uid: 1000, gid: 1000 },
  { name: "./bin", type: "symlink", linkname: "usr/bin" },
  { name: "./usr/bin/tool2", type: "link", linkname: "./usr/bin/tool" },
  { name: "./dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
  { name: "./run/pipe", type: "fifo" },
  { name: "./etc/.wh.removed", data: "" },
  { name: "./etc/cap", data: "x", pax: { "SCHILY.xattr.security.capability": "caps", mtime: "1700000000.5" } },
];

async function importLayer(store: FsBlobStore, tar: Buffer, whiteouts: "keep" | "drop" = "drop") {
  const input = await openRootfsTar(streamOf(tar, 4096), WHAT);
  try {
    return { compression: input.compression, layer: await writeLayer(store, rootfsEntries(input, { what: WHAT, whiteouts })) };
  } finally {
    input.close();
  }
}

describe("rootfs tarballs", () => {
  it.each(["none", "gzip", "xz", "zstd"] as const)("reads a %s tarball and re-writes its entries normalised", async (compression) => {
    const store = await tempStore();
    const tar = await rawTar(ROOTFS);
    const upload = compression === "none" ? tar : compressWith(compression, tar);
    const { compression: found, layer } = await importLayer(store, upload);
    expect(found).toBe(compression);
    const members = await readTarMembers(await blobBytes(store, layer.blob));
    expect(members.map((m) => [m.name, m.type])).toEqual([
      ["etc/", "directory"],
      ["etc/os-release", "file"],
      ["usr/bin/tool", "file"],
      ["bin", "symlink"],
      ["usr/bin/tool2", "link"],
      ["dev/null", "character-device"],
      ["run/pipe", "fifo"],
      ["etc/cap", "file"],
    ]);
    const byName = new Map(members.map((m) => [m.name, m]));
    expect(byName.get("usr/bin/tool")).toMatchObject({ mode: 0o755, uid: 1000, gid: 1000, data: Buffer.from("#!/bin/sh\n") });
    expect(byName.get("usr/bin/tool2")!.linkname).toBe("usr/bin/tool");
    expect(byName.get("bin")!.linkname).toBe("usr/bin");
    expect(byName.get("etc/os-release")!.mtime).toBe(T0.getTime());
    expect(byName.get("etc/cap")!.mtime).toBe(1_700_000_000_000);
    expect(byName.get("etc/cap")!.pax).toMatchObject({ "SCHILY.xattr.security.capability": "caps" });
    expect(byName.get("dev/null")).toMatchObject({ mode: 0o666 });
  });

  it("gives the same layer for the same rootfs whatever its compression", async () => {
    const store = await tempStore();
    const tar = await rawTar(ROOTFS);
    const plain = await importLayer(store, tar);
    const xz = await importLayer(store, compressWith("xz", tar));
    expect(xz.layer).toEqual(plain.layer);
  });

  it("keeps whiteouts when asked (a commit's changes)", async () => {
    const store = await tempStore();
    const tar = await rawTar([
      { name: "a/.wh.b", data: "" },
      { name: "c/.wh..wh..opq", data: "" },
      { name: "d/.wh..wh.plnk", type: "directory" },
    ]);
    const { layer } = await importLayer(store, tar, "keep");
    const members = await readTarMembers(await blobBytes(store, layer.blob));
    expect(members.map((m) => m.name)).toEqual(["a/.wh.b", "c/.wh..wh..opq"]);
  });

  it("streams a large xz tarball", async () => {
    const store = await tempStore();
    const big = randomBytes(6 * 1024 * 1024);
    const { layer } = await importLayer(store, compressWith("xz", await rawTar([{ name: "big.bin", data: big }])));
    expect(layer.size).toBe(512 + big.length + 1024);
  });

  it("refuses what is not a tarball, naming what it is", async () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(0), /the rootfs tarball is empty/],
      [Buffer.from("hello, this is not a tar file at all"), /is not a tar archive \(nor a gzip, xz or zstd-compressed one\)/],
      [Buffer.concat([Buffer.from("BZh91AY&SY"), randomBytes(600)]), /bzip2-compressed, which is not supported/],
      [
        compressWith("gzip", Buffer.from("just text, but gzipped, long enough: ".repeat(30))),
        /gzip-compressed, but what it holds is not a tar/,
      ],
    ];
    for (const [input, message] of cases) {
      await expect(openRootfsTar(streamOf(input), WHAT)).rejects.toThrow(message);
    }
  });

  it.each(["gzip", "xz", "zstd"] as const)("reports corrupt or truncated %s data and stores nothing", async (tool) => {
    const store = await tempStore();
    const compressed = compressWith(tool, await rawTar([{ name: "f", data: randomBytes(300_000) }]));
    const truncated = compressed.subarray(0, compressed.length - 2000);
    await expect(importLayer(store, truncated)).rejects.toThrow(
      new RegExp(`the rootfs tarball: its ${tool} compression is corrupt or truncated`),
    );
    expect(await storeFiles(store)).toEqual([]);
    // The decoder is usable again afterwards (xz-decompress runs one at a time).
    await importLayer(store, compressed);
  });

  it("refuses '..' names and truncated tars, and stores nothing", async () => {
    const store = await tempStore();
    await expect(
      importLayer(
        store,
        await rawTar([
          { name: "ok", data: "1" },
          { name: "a/../../etc/passwd", data: "x" },
        ]),
      ),
    ).rejects.toThrow('the rootfs tarball: member "a/../../etc/passwd" contains ".."');
    const tar = await rawTar([{ name: "a", data: randomBytes(5000) }]);
    await expect(importLayer(store, tar.subarray(0, 3000))).rejects.toThrow(/the rootfs tarball is truncated/);
    expect(await storeFiles(store)).toEqual([]);
  });

  it("reports a failing upload as itself, not as corrupt data", async () => {
    async function* failing() {
      yield Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
      await Promise.resolve();
      throw new Error("connection reset");
    }
    await expect(collect(decompress(failing(), "gzip", WHAT))).rejects.toThrow("connection reset");
  });
});
