import { describe, expect, it } from "vitest";

import { commitImage } from "../src/build/commit-image";
import { importImage } from "../src/build/import-image";
import { parseConfig } from "../src/image-model";
import { MemoryMetadataStore } from "../src/memory-metadata-store";
import { blobBytes, compressWith, rawTar, readTarMembers } from "./build-layer-helpers";
import { storeFiles, streamOf, tempStore } from "./helpers";

const T1 = new Date("2026-11-26T09:00:00.000Z");
const T2 = new Date("2026-11-26T10:00:00.000Z");

async function withBase() {
  const store = await tempStore();
  const meta = new MemoryMetadataStore();
  const tar = await rawTar([
    { name: "etc/", type: "directory" },
    { name: "etc/app.conf", data: "old" },
    { name: "var/cache/junk", data: "junk" },
  ]);
  const { image: base } = await importImage({
    store,
    meta,
    input: streamOf(tar),
    reference: "app:base",
    changes: ["ENV A=1", 'CMD ["app"]'],
    now: T1,
  });
  return { store, meta, base };
}

describe("commitImage", () => {
  it("adds one layer (deletes as whiteouts first, then the changes tarball, then files) and a history entry", async () => {
    const { store, meta, base } = await withBase();
    const changes = compressWith(
      "gzip",
      await rawTar([
        { name: "./etc/app.conf", data: "new" },
        { name: "old/.wh.gone", data: "" },
      ]),
    );
    const { image, tagged } = await commitImage({
      store,
      meta,
      base: "app:base",
      changes: streamOf(changes),
      deletes: ["/var/cache/junk", "var/cache/junk"],
      files: [{ path: "/srv/index.html", content: Buffer.from("<h1>hi</h1>"), mode: 0o640, uid: 33, gid: 33 }],
      author: "Ada <ada@example.com>",
      message: "configure app",
      configChanges: ["ENV B=2", "EXPOSE 80"],
      reference: "app:edited",
      now: T2,
    });
    expect(tagged?.display).toBe("app:edited");
    expect(image.parentId?.equals(base.id)).toBe(true);
    expect(image.layers.slice(0, 1)).toEqual(base.layers);
    expect(image.layers).toHaveLength(2);

    const members = await readTarMembers(await blobBytes(store, image.layers[1]!.blob));
    expect(members.map((m) => m.name)).toEqual(["var/cache/.wh.junk", "etc/app.conf", "old/.wh.gone", "srv/index.html"]);
    expect(members[3]).toMatchObject({ mode: 0o640, uid: 33, gid: 33, mtime: T2.getTime(), data: Buffer.from("<h1>hi</h1>") });

    const config = parseConfig(await store.read(image.id, 1 << 20));
    expect(config.author).toBe("Ada <ada@example.com>");
    expect(config.created).toBe(T2.toISOString());
    expect(config.config).toMatchObject({ Env: ["A=1", "B=2"], Cmd: ["app"], ExposedPorts: { "80/tcp": {} } });
    expect(config.rootfs.diff_ids.map(String)).toEqual(image.layers.map((l) => l.diffId.toString()));
    expect(config.history).toEqual([
      { created: T1.toISOString(), created_by: "", comment: "Imported from -" },
      { created: T2.toISOString(), author: "Ada <ada@example.com>", created_by: "", comment: "configure app" },
    ]);
  });

  it("adds no layer when nothing changes, marking the history entry empty_layer", async () => {
    const { store, meta, base } = await withBase();
    const { image } = await commitImage({ store, meta, base: base.id.toString(), configChanges: ["USER nobody"], now: T2 });
    expect(image.layers).toEqual(base.layers);
    const config = parseConfig(await store.read(image.id, 1 << 20));
    expect(config.config?.User).toBe("nobody");
    expect(config.author).toBeUndefined();
    expect(config.history?.at(-1)).toEqual({ created: T2.toISOString(), created_by: "", empty_layer: true });
  });

  it("refuses bad input with a clear error and stores nothing", async () => {
    const { store, meta } = await withBase();
    const before = (await storeFiles(store)).sort();
    const tar = async (name: string) => streamOf(await rawTar([{ name, data: "x" }]));
    const bad: [Partial<Parameters<typeof commitImage>[0]>, RegExp][] = [
      [{ base: "nope:latest" }, /No such image: nope:latest/],
      [{ deletes: ["/etc/../../x"] }, /delete path "\/etc\/..\/..\/x" contains "\.\."/],
      [{ deletes: ["/"] }, /root directory, which cannot be deleted/],
      [{ files: [{ path: "a/../../b", content: Buffer.from("x") }] }, /contains "\.\."/],
      [
        {
          files: [
            { path: "a", content: Buffer.from("x") },
            { path: "/a", content: Buffer.from("y") },
          ],
        },
        /given twice/,
      ],
      [{ files: [{ path: "a", content: Buffer.from("x") }], deletes: ["a"] }, /both deleted and written/],
      [{ files: [{ path: "a", content: Buffer.from("x"), mode: 0o10000 }] }, /not a permission mode/],
      [{ configChanges: ["FROM alpine"] }, /from is not a valid change command/],
      [{ reference: "UPPER:case" }, /invalid reference format/],
      [{ changes: await tar("etc/app.conf"), deletes: ["etc/app.conf"] }, /"\/etc\/app.conf" is both deleted and in the changes tarball/],
      [{ changes: await tar("../../etc/passwd") }, /the changes tarball: member "..\/..\/etc\/passwd" contains "\.\."/],
      [{ changes: streamOf(Buffer.from("plain words, no tar")) }, /the changes tarball is not a tar archive/],
    ];
    for (const [options, message] of bad) {
      await expect(commitImage({ store, meta, base: "app:base", now: T2, ...options })).rejects.toThrow(message);
    }
    expect((await storeFiles(store)).sort()).toEqual(before);
    expect(await meta.listImages()).toHaveLength(1);
  });
});
