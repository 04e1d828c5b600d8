/**
 * The MetadataStore contract, runnable against any implementation:
 * `describeMetadataStore("postgres", async () => ({ store, cleanup }))`.
 * Each test gets a fresh, empty store from the factory.
 */
import { describe, expect, it } from "vitest";

import { Digest } from "../src/digest";
import type { ImageRecord, MetadataStore } from "../src/metadata";

export type MetadataStoreFactory = () => Promise<{ store: MetadataStore; cleanup?: () => Promise<void> }>;

let seq = 0;
/** A record with unique digests; `overrides` replace fields. */
export function sampleImage(overrides: Partial<ImageRecord> = {}): ImageRecord {
  seq++;
  const layer = (n: number) => ({
    diffId: Digest.of(`diff-${seq}-${n}`),
    blob: Digest.of(`blob-${seq}-${n}`),
    blobSize: 100 + n,
    size: 1000 + n,
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  });
  return {
    id: Digest.of(`config-${seq}`),
    created: new Date("2024-01-01T00:00:00.000Z"),
    architecture: "amd64",
    os: "linux",
    variant: null,
    size: 2001,
    configSize: 321,
    layers: [layer(0), layer(1)],
    labels: { "com.example.a": "1", "org.opencontainers.image.title": "x y" },
    parentId: null,
    manifestDigest: null,
    manifestMediaType: null,
    pinned: false,
    loadedAt: new Date("2024-02-01T10:00:00.000Z"),
    lastTagTime: null,
    ...overrides,
  };
}

function plain(image: ImageRecord): unknown {
  return JSON.parse(JSON.stringify(image));
}

export function describeMetadataStore(name: string, factory: MetadataStoreFactory): void {
  describe(`MetadataStore conformance: ${name}`, () => {
    async function withStore(fn: (store: MetadataStore) => Promise<void>): Promise<void> {
      const { store, cleanup } = await factory();
      try {
        await fn(store);
      } finally {
        await cleanup?.();
      }
    }

    it("putImage inserts once and getImage returns the record as stored", () =>
      withStore(async (store) => {
        const parent = sampleImage();
        const image = sampleImage({
          variant: "v8",
          parentId: parent.id,
          manifestDigest: Digest.of("manifest"),
          manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
          created: null,
          lastTagTime: new Date("2024-03-01T00:00:00.123Z"),
          pinned: true,
        });
        expect(await store.putImage(parent)).toBe(true);
        expect(await store.putImage(image)).toBe(true);
        expect(await store.putImage(image)).toBe(false);
        const got = await store.getImage(image.id);
        expect(got).toBeDefined();
        expect(plain(got as ImageRecord)).toEqual(plain(image));
        expect(got?.id).toBeInstanceOf(Digest);
        expect(got?.layers[0]?.diffId).toBeInstanceOf(Digest);
        expect(got?.lastTagTime).toBeInstanceOf(Date);
        expect(await store.getImage(Digest.of("absent"))).toBeUndefined();
      }));

    it("keeps layer order, including a layer repeated in one image", () =>
      withStore(async (store) => {
        const base = sampleImage();
        const first = base.layers[0];
        if (!first) throw new Error("sample has layers");
        const image = sampleImage({ layers: [first, ...sampleImage().layers, first] });
        await store.putImage(image);
        const got = await store.getImage(image.id);
        expect(got?.layers.map((l) => l.diffId.toString())).toEqual(image.layers.map((l) => l.diffId.toString()));
      }));

    it("listImages returns every image", () =>
      withStore(async (store) => {
        const a = sampleImage();
        const b = sampleImage();
        await store.putImage(a);
        await store.putImage(b);
        const ids = (await store.listImages()).map((i) => i.id.toString()).sort();
        expect(ids).toEqual([a.id.toString(), b.id.toString()].sort());
      }));

    it("findImageIds matches hex prefixes up to a limit", () =>
      withStore(async (store) => {
        const images = Array.from({ length: 5 }, () => sampleImage());
        for (const image of images) await store.putImage(image);
        const target = images[2] as ImageRecord;
        expect((await store.findImageIds(target.id.hex.slice(0, 12), 10)).map(String)).toEqual([target.id.toString()]);
        expect((await store.findImageIds(target.id.hex, 10)).map(String)).toEqual([target.id.toString()]);
        expect(await store.findImageIds("", 3)).toHaveLength(3);
        expect(await store.findImageIds("zz", 10)).toEqual([]);
      }));

    it("updateImage changes pinned and lastTagTime only", () =>
      withStore(async (store) => {
        const image = sampleImage();
        await store.putImage(image);
        const when = new Date("2024-05-05T05:05:05.500Z");
        await store.updateImage(image.id, { pinned: true, lastTagTime: when });
        let got = await store.getImage(image.id);
        expect(got?.pinned).toBe(true);
        expect(got?.lastTagTime?.toISOString()).toBe(when.toISOString());
        await store.updateImage(image.id, { lastTagTime: null });
        got = await store.getImage(image.id);
        expect(got?.lastTagTime).toBeNull();
        expect(got?.pinned).toBe(true);
        expect(plain({ ...(got as ImageRecord), pinned: false })).toEqual(plain(image));
      }));

    it("setTag creates, moves and reports the replaced tag; getTag/listTags/deleteTag", () =>
      withStore(async (store) => {
        const a = sampleImage();
        const b = sampleImage();
        await store.putImage(a);
        await store.putImage(b);
        expect(await store.setTag("docker.io/fixtures/app", "1.0", a.id)).toBeUndefined();
        await store.setTag("docker.io/fixtures/app", "latest", a.id);
        await store.setTag("docker.io/library/redis", "7", b.id);
        const previous = await store.setTag("docker.io/fixtures/app", "latest", b.id);
        expect(previous?.imageId.toString()).toBe(a.id.toString());
        expect(previous?.repository).toBe("docker.io/fixtures/app");
        expect(previous?.tag).toBe("latest");

        const tag = await store.getTag("docker.io/fixtures/app", "latest");
        expect(tag?.imageId.toString()).toBe(b.id.toString());
        expect(tag?.updatedAt).toBeInstanceOf(Date);
        expect(await store.getTag("docker.io/fixtures/app", "nope")).toBeUndefined();

        const key = (t: { repository: string; tag: string }) => `${t.repository}:${t.tag}`;
        expect((await store.listTags()).map(key).sort()).toEqual([
          "docker.io/fixtures/app:1.0",
          "docker.io/fixtures/app:latest",
          "docker.io/library/redis:7",
        ]);
        expect((await store.listTags({ imageId: b.id })).map(key).sort()).toEqual([
          "docker.io/fixtures/app:latest",
          "docker.io/library/redis:7",
        ]);
        expect((await store.listTags({ repository: "docker.io/fixtures/app" })).map(key).sort()).toEqual([
          "docker.io/fixtures/app:1.0",
          "docker.io/fixtures/app:latest",
        ]);
        expect((await store.listTags({ repository: "docker.io/fixtures/app", imageId: a.id })).map(key)).toEqual([
          "docker.io/fixtures/app:1.0",
        ]);

        await store.deleteTag("docker.io/fixtures/app", "1.0");
        await store.deleteTag("docker.io/fixtures/app", "absent");
        expect(await store.getTag("docker.io/fixtures/app", "1.0")).toBeUndefined();
      }));

    it("deleteImage removes the image; isBlobReferenced follows layers, configs and manifests", () =>
      withStore(async (store) => {
        const a = sampleImage({ manifestDigest: Digest.of("manifest of a") });
        const sharedLayer = a.layers[0];
        if (!sharedLayer) throw new Error("sample has layers");
        const b = sampleImage({ layers: [sharedLayer] });
        await store.putImage(a);
        await store.putImage(b);
        const onlyA = a.layers[1]?.blob as Digest;
        expect(await store.isBlobReferenced(a.id)).toBe(true);
        expect(await store.isBlobReferenced(onlyA)).toBe(true);
        expect(await store.isBlobReferenced(Digest.of("manifest of a"))).toBe(true);
        expect(await store.isBlobReferenced(Digest.of("nobody"))).toBe(false);

        await store.deleteImage(a.id);
        expect(await store.isBlobReferenced(Digest.of("manifest of a"))).toBe(false);
        expect(await store.getImage(a.id)).toBeUndefined();
        expect((await store.listImages()).map(String)).toHaveLength(1);
        expect(await store.isBlobReferenced(a.id)).toBe(false);
        expect(await store.isBlobReferenced(onlyA)).toBe(false);
        expect(await store.isBlobReferenced(sharedLayer.blob)).toBe(true);
        expect(await store.findImageIds(a.id.hex, 10)).toEqual([]);
      }));
  });
}
