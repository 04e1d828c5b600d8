import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";

import { describe, expect, it } from "vitest";

import type { LayerEntry } from "../src/build/layer/entries";
import { writeLayer } from "../src/build/layer/layer-writer";
import { storeImage } from "../src/build/store-image";
import type { ImageConfig } from "../src/image-model";
import { MediaType } from "../src/media-types";
import { MemoryMetadataStore } from "../src/memory-metadata-store";
import { blobBytes, dir, file, readTarMembers, T0 } from "./build-layer-helpers";
import { storeFiles, tempDir, tempStore } from "./helpers";

function sample(): LayerEntry[] {
  return [
    dir("etc"),
    file("etc/hostname", "berth\n"),
    file("etc/secret", "s3cret", { mode: 0o600, uid: 1000, gid: 1001 }),
    dir("usr/local/bin", { mode: 0o700, mtime: new Date("2020-05-06T07:08:09.999Z") }),
    file("usr/local/bin/tool", "#!/bin/sh\necho hi\n", { mode: 0o4755 }),
    { type: "symlink", path: "usr/local/bin/alias", target: "tool", mode: 0o777, uid: 0, gid: 0, mtime: T0 },
    { type: "link", path: "etc/hostname.bak", target: "etc/hostname", mode: 0o644, uid: 0, gid: 0, mtime: T0 },
    { type: "whiteout", path: "var/cache/old", mtime: T0 },
    { type: "whiteout", path: "tmp", opaque: true, mtime: T0 },
    { type: "whiteout", path: "gone", mtime: T0 },
  ];
}

describe("writeLayer", () => {
  it("gives the same blob and diff_id for the same entries, and records both", async () => {
    const store = await tempStore();
    const a = await writeLayer(store, sample());
    const b = await writeLayer(store, sample());
    expect(b).toEqual(a);
    expect(a.mediaType).toBe(MediaType.ociLayerGzip);

    const gz = await blobBytes(store, a.blob);
    expect(gz.byteLength).toBe(a.blobSize);
    expect(`sha256:${createHash("sha256").update(gz).digest("hex")}`).toBe(a.blob.toString());
    const tar = gunzipSync(gz);
    expect(tar.byteLength).toBe(a.size);
    expect(`sha256:${createHash("sha256").update(tar).digest("hex")}`).toBe(a.diffId.toString());
    // No name, no mtime, OS "unknown": nothing in the gzip header depends on when or where it was written.
    expect([...gz.subarray(3, 10)]).toEqual([0, 0, 0, 0, 0, 0, 0xff]);
  });

  it("writes modes, owners, mtimes, links and whiteouts as given, in order", async () => {
    const store = await tempStore();
    const layer = await writeLayer(store, sample());
    const members = await readTarMembers(await blobBytes(store, layer.blob));
    expect(members.map((m) => [m.name, m.type])).toEqual([
      ["etc/", "directory"],
      ["etc/hostname", "file"],
      ["etc/secret", "file"],
      ["usr/local/bin/", "directory"],
      ["usr/local/bin/tool", "file"],
      ["usr/local/bin/alias", "symlink"],
      ["etc/hostname.bak", "link"],
      ["var/cache/.wh.old", "file"],
      ["tmp/.wh..wh..opq", "file"],
      [".wh.gone", "file"],
    ]);
    const byName = new Map(members.map((m) => [m.name, m]));
    expect(byName.get("etc/secret")).toMatchObject({ mode: 0o600, uid: 1000, gid: 1001, data: Buffer.from("s3cret") });
    expect(byName.get("usr/local/bin/")).toMatchObject({ mode: 0o700, mtime: new Date("2020-05-06T07:08:09Z").getTime() });
    expect(byName.get("usr/local/bin/tool")!.mode).toBe(0o4755);
    expect(byName.get("etc/hostname")).toMatchObject({ mtime: T0.getTime(), uid: 0, gid: 0 });
    expect(byName.get("usr/local/bin/alias")!.linkname).toBe("tool");
    expect(byName.get("etc/hostname.bak")!.linkname).toBe("etc/hostname");
    expect(byName.get("var/cache/.wh.old")).toMatchObject({ mode: 0, data: Buffer.alloc(0) });
  });

  it("changes the digests when an mtime changes", async () => {
    const store = await tempStore();
    const a = await writeLayer(store, [file("a", "x")]);
    const b = await writeLayer(store, [file("a", "x", { mtime: new Date(T0.getTime() + 1000) })]);
    expect(b.diffId.equals(a.diffId)).toBe(false);
  });

  it("uses PAX (or ustar prefixes) for long and non-ASCII names, readable by GNU tar", async () => {
    const store = await tempStore();
    const deep = `${"d".repeat(120)}/${"e".repeat(120)}`;
    const longName = `${deep}/${"f".repeat(150)}.txt`;
    const layer = await writeLayer(store, [
      dir(deep.split("/")[0]!),
      dir(deep),
      file(longName, "long"),
      file("grüße/ünïcödé.txt", "utf8"),
      { type: "symlink", path: "link", target: `/${"t".repeat(200)}`, mode: 0o777, uid: 0, gid: 0, mtime: T0 },
      file("big-ids", "", { uid: 3_000_000, gid: 4_000_000 }),
    ]);
    const members = await readTarMembers(await blobBytes(store, layer.blob));
    expect(members.map((m) => m.name)).toEqual([`${"d".repeat(120)}/`, `${deep}/`, longName, "grüße/ünïcödé.txt", "link", "big-ids"]);
    expect(members[2]!.data.toString()).toBe("long");
    expect(members[4]!.linkname).toBe(`/${"t".repeat(200)}`);

    const tmp = await tempDir();
    const path = join(tmp, "layer.tgz");
    await writeFile(path, await blobBytes(store, layer.blob));
    const listing = execFileSync("tar", ["-tzvf", path, "--numeric-owner"], { encoding: "utf8" });
    expect(listing).toContain(longName);
    expect(listing).toContain("grüße/ünïcödé.txt");
    expect(listing).toMatch(/3000000\/4000000 .* big-ids/);
  });

  it("streams large files without holding them and checks the announced size", async () => {
    const store = await tempStore();
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const big: LayerEntry = {
      type: "file",
      path: "big.bin",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: T0,
      size: 8 * chunk.length,
      open: () =>
        Readable.from(
          (function* () {
            for (let i = 0; i < 8; i++) yield chunk;
          })(),
        ),
    };
    const layer = await writeLayer(store, [big], { mediaType: MediaType.dockerLayerGzip });
    expect(layer.mediaType).toBe(MediaType.dockerLayerGzip);
    expect(layer.size).toBe(512 + 8 * chunk.length + 1024);

    await expect(writeLayer(store, [file("short", "abc", { size: 5 })])).rejects.toThrow(
      'file "short": its content has 3 bytes, not the 5 bytes announced',
    );
    await expect(writeLayer(store, [file("long", "abcdef", { size: 2 })])).rejects.toThrow(
      'file "long": its content is longer than the 2 bytes announced',
    );
  });

  it("reads small files ahead when asked, with the same bytes and the same size checks", async () => {
    const store = await tempStore();
    // Many small files, each opened late and slowly: the order of the tar must not change.
    const entries = () =>
      Array.from({ length: 100 }, (_, i) => ({
        ...file(`f/${String(i).padStart(3, "0")}`, `content ${i}\n`.repeat(i)),
        open: () =>
          Readable.from(
            (async function* () {
              await new Promise((r) => setTimeout(r, (i * 7) % 5));
              yield Buffer.from(`content ${i}\n`.repeat(i));
            })(),
          ),
      })) as LayerEntry[];
    const plain = await writeLayer(store, entries());
    const ahead = await writeLayer(store, entries(), { readAhead: true });
    expect(ahead).toEqual(plain);
    await expect(writeLayer(store, [file("long", "abcdef", { size: 2 })], { readAhead: true })).rejects.toThrow(
      'file "long": its content is longer than the 2 bytes announced',
    );
    await expect(writeLayer(store, [file("short", "abc", { size: 5 })], { readAhead: true })).rejects.toThrow(
      'file "short": its content has 3 bytes, not the 5 bytes announced',
    );
  });

  it("writes plain tar layers (blob = diff_id) when the media type says so", async () => {
    const store = await tempStore();
    const layer = await writeLayer(store, [file("a", "x")], { mediaType: MediaType.ociLayerTar });
    expect(layer.blob.equals(layer.diffId)).toBe(true);
    expect(layer.blobSize).toBe(layer.size);
    await expect(writeLayer(store, [file("a", "x")], { mediaType: MediaType.ociLayerZstd })).rejects.toThrow(
      /only gzip-compressed or plain tar/,
    );
  });

  it("refuses bad paths and dangling hard links, and leaves nothing in the store", async () => {
    const store = await tempStore();
    const bad: [LayerEntry[], RegExp][] = [
      [[file("/etc/passwd", "x")], /must be relative/],
      [[file("a/../../etc/passwd", "x")], /"\.\." component/],
      [[file("./a", "x")], /"\." or/],
      [[file("a//b", "x")], /empty/],
      [[{ type: "link", path: "b", target: "a", mode: 0o644, uid: 0, gid: 0, mtime: T0 }], /not an earlier entry/],
      [[file("a", "x", { mode: 0o170000 })], /not a permission mode/],
    ];
    for (const [entries, message] of bad) {
      await expect(writeLayer(store, [file("ok", "fine"), ...entries])).rejects.toThrow(message);
    }
    expect(await storeFiles(store)).toEqual([]);
  });

  it("fails with the error of a file that cannot be read, and stops when aborted", async () => {
    const store = await tempStore();
    const failing: LayerEntry = {
      type: "file",
      path: "broken",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: T0,
      size: 10,
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.from("abc");
            await Promise.resolve();
            throw new Error("disk on fire");
          })(),
        ),
    };
    await expect(writeLayer(store, [failing])).rejects.toThrow("disk on fire");
    const controller = new AbortController();
    function* endless(): Iterable<LayerEntry> {
      for (let i = 0; ; i++) {
        if (i === 3) controller.abort(new Error("stopped by the user"));
        yield file(`f${i}`, "x");
      }
    }
    await expect(writeLayer(store, endless(), { signal: controller.signal })).rejects.toThrow("stopped by the user");
    expect(await storeFiles(store)).toEqual([]);
  });
});

describe("storeImage", () => {
  it("stores the config as given and the image record with its parent; again returns the existing one", async () => {
    const store = await tempStore();
    const meta = new MemoryMetadataStore();
    const layer = await writeLayer(store, [file("hello", "world")]);
    const config: ImageConfig = {
      architecture: "amd64",
      os: "linux",
      created: T0.toISOString(),
      config: { Env: ["PATH=/usr/bin"], Labels: { team: "a" } },
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
      history: [{ created: T0.toISOString(), created_by: "test" }],
    };
    const parent = (await storeImage(store, meta, { ...config, rootfs: { type: "layers", diff_ids: [] } }, [])).id;
    const image = await storeImage(store, meta, config, [layer], { parentId: parent });
    expect(image.parentId?.equals(parent)).toBe(true);
    expect(image.labels).toEqual({ team: "a" });
    expect(image.size).toBe(layer.size);
    expect(image.created?.toISOString()).toBe(T0.toISOString());
    const bytes = await store.read(image.id, 1 << 20);
    expect(bytes.toString()).toBe(JSON.stringify(config));
    expect(bytes.toString()).toContain(`"diff_ids":["${layer.diffId.toString()}"]`);
    expect((await meta.getImage(image.id))?.parentId?.equals(parent)).toBe(true);

    const again = await storeImage(store, meta, config, [layer], { loadedAt: new Date(0) });
    expect(again.id.equals(image.id)).toBe(true);
    expect(again.loadedAt).toEqual(image.loadedAt);
    expect(again.parentId?.equals(parent)).toBe(true);
  });

  it("refuses layers that do not match rootfs.diff_ids or are not stored", async () => {
    const store = await tempStore();
    const other = await tempStore();
    const meta = new MemoryMetadataStore();
    const a = await writeLayer(store, [file("a", "1")]);
    const b = await writeLayer(store, [file("b", "2")]);
    const config = (ids: (typeof a.diffId)[]): ImageConfig => ({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: ids },
    });
    await expect(storeImage(store, meta, config([a.diffId]), [b])).rejects.toThrow(/differs from the config/);
    await expect(storeImage(store, meta, config([a.diffId, b.diffId]), [a])).rejects.toThrow(/lists 2 layers/);
    await expect(storeImage(other, meta, config([a.diffId]), [a])).rejects.toThrow(/is not in the blob store/);
    expect(await meta.listImages()).toEqual([]);
  });
});
