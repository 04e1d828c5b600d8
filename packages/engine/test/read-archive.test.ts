import { createReadStream } from "node:fs";
import { join } from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

import { readArchive } from "../src/archive/read-archive";
import { Digest } from "../src/digest";
import { MediaType } from "../src/media-types";
import type { ImageRecord } from "../src/metadata";
import { fixtures, type Fixtures } from "./fixtures";
import { storeFiles, tarDirectory, tempDir, tempStore } from "./helpers";

let fx: Fixtures;
beforeAll(() => {
  fx = fixtures();
});

/** The tag `docker save` wrote into each per-image archive. */
function archiveTag(ref: string): string {
  return ref.startsWith("fixtures/multi:1.0-linux-") ? "fixtures/multi:1.0" : ref;
}

describe("readArchive: docker save archives (legacy form, written by skopeo)", () => {
  it("loads every per-image archive with the image ID and diff_ids of fixtures.json", async () => {
    const withArchives = fx.images.filter((i) => i.archive && i.configDigest);
    expect(withArchives.length).toBeGreaterThanOrEqual(5);
    for (const fixture of withArchives) {
      const store = await tempStore();
      const { images, createdBlobs } = await readArchive(createReadStream(join(fx.out, fixture.archive!)), { blobs: store });
      expect(images, fixture.archive!).toHaveLength(1);
      const { image, repoTags } = images[0]!;
      expect(image.id.toString()).toBe(fixture.configDigest);
      expect(repoTags).toEqual([archiveTag(fixture.ref)]);
      expect(image.architecture).toBe(fixture.architecture);
      expect(image.layers.map((l) => l.diffId.toString())).toEqual(fixture.layers!.map((l) => l.diffID));
      // skopeo's archives hold uncompressed layers: blob = diff_id
      for (const layer of image.layers) {
        expect(layer.blob.equals(layer.diffId)).toBe(true);
        expect(layer.mediaType).toBe(MediaType.ociLayerTar);
        expect(await store.stat(layer.blob)).toEqual({ size: layer.size });
      }
      expect(image.size).toBe(image.layers.reduce((s, l) => s + l.size, 0));
      expect(image).toMatchObject({ pinned: false, lastTagTime: null, manifestDigest: null, os: "linux" });
      expect(createdBlobs.map(String).sort()).toEqual(
        [image.id, ...image.layers.map((l) => l.blob)]
          .map(String)
          .filter((d, i, a) => a.indexOf(d) === i)
          .sort(),
      );
    }
  });

  it("loads all.tar: three images, the shared base layer stored once", async () => {
    const store = await tempStore();
    const { images } = await readArchive(createReadStream(join(fx.archives, "all.tar")), { blobs: store });
    const byTag = Object.fromEntries(images.map((i) => [i.repoTags[0]!, i.image] as const)) as Record<string, ImageRecord>;
    expect(Object.keys(byTag).sort()).toEqual(["fixtures/app:1.0", "fixtures/app:2.0", "fixtures/base:1.0"]);
    for (const ref of Object.keys(byTag)) {
      expect(byTag[ref]!.id.toString()).toBe(fx.image(ref).configDigest);
      expect(byTag[ref]!.layers.map((l) => l.diffId.toString())).toEqual(fx.image(ref).layers.map((l) => l.diffID));
    }
    const base = fx.image("fixtures/base:1.0").layers[0]!.diffID;
    expect(byTag["fixtures/app:2.0"]!.layers[0]!.diffId.toString()).toBe(base);
    // 3 configs + base + app 1.0 layer + app 2.0 layer
    expect(await storeFiles(store)).toHaveLength(6);
    expect(byTag["fixtures/app:2.0"]!.labels["org.opencontainers.image.version"]).toBe("2.0");
    expect(byTag["fixtures/app:1.0"]!.created?.toISOString()).toBe("2024-01-01T00:00:00.000Z");
  });
});

describe("readArchive: OCI image layout packed as a tar", () => {
  let plainTar: string;
  let gzipTar: string;
  beforeAll(async () => {
    const dir = await tempDir("berth-layout-", "file");
    plainTar = tarDirectory(fx.layout, join(dir, "layout.tar"));
    gzipTar = tarDirectory(fx.layout, join(dir, "layout.tar.gz"), true);
  });

  for (const which of ["plain", "gzip"] as const) {
    it(`loads every image of the layout (${which}), tags from ref.name, multi-platform tag on linux/amd64`, async () => {
      const store = await tempStore();
      const file = which === "plain" ? plainTar : gzipTar;
      const { images, createdBlobs } = await readArchive(createReadStream(file), { blobs: store });
      const singles = fx.images.filter((i) => i.configDigest);
      expect(images.map((i) => i.image.id.toString()).sort()).toEqual([...new Set(singles.map((i) => i.configDigest!))].sort());
      for (const fixture of singles) {
        const loaded = images.find((i) => i.image.id.toString() === fixture.configDigest)!;
        expect(loaded.repoTags, fixture.ref).toContain(fixture.ref);
        const { image } = loaded;
        expect(image.manifestDigest?.toString()).toBe(fixture.ociDigest);
        expect(image.manifestMediaType).toBe(MediaType.ociManifest);
        image.layers.forEach((layer, i) => {
          const want = fixture.layers![i]!;
          expect(layer.blob.toString()).toBe(want.digest);
          expect(layer.blobSize).toBe(want.size);
          expect(layer.diffId.toString()).toBe(want.diffID);
          expect(layer.mediaType).toBe(MediaType.ociLayerGzip);
          expect(layer.size).toBeGreaterThan(layer.blobSize > 1000 ? 0 : -1);
        });
      }
      const amd64 = images.find((i) => i.image.id.toString() === fx.image("fixtures/multi:1.0-linux-amd64").configDigest)!;
      const arm64 = images.find((i) => i.image.id.toString() === fx.image("fixtures/multi:1.0-linux-arm64").configDigest)!;
      expect(amd64.repoTags).toContain("fixtures/multi:1.0");
      expect(arm64.repoTags).toEqual(["fixtures/multi:1.0-linux-arm64"]);
      expect(arm64.image.architecture).toBe("arm64");
      // the multi-platform index blob is not kept: no image refers to it
      const index = fx.images.find((i) => i.ref === "fixtures/multi:1.0")!;
      expect(await store.has(Digest.parse(index.ociDigest))).toBe(false);
      expect(createdBlobs.length).toBe((await storeFiles(store)).length);
    });
  }

  it("reports only new blobs as created when the store already has some", async () => {
    const store = await tempStore();
    const first = await readArchive(createReadStream(join(fx.archives, "base-1.0.tar")), { blobs: store });
    expect(first.createdBlobs).toHaveLength(2);
    const again = await readArchive(createReadStream(join(fx.archives, "all.tar")), { blobs: store });
    expect(again.images).toHaveLength(3);
    expect(again.createdBlobs).toHaveLength(4); // two app configs + two app layers
  });
});
