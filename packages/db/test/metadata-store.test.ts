import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConflictError, Digest, NoSuchImageError } from "@berth/engine";
import type { MetadataStore } from "@berth/engine";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { appendAuditEvent, listAuditEvents, PrismaMetadataStore } from "../src/index";
import { createTestDatabase, makeImage, randomDigest } from "./helpers";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

let db: TestDatabase;
let store: PrismaMetadataStore;

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PrismaMetadataStore(db.prisma);
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.prisma.tag.deleteMany();
  await db.prisma.image.deleteMany();
});

describe("PrismaMetadataStore: images", () => {
  it("round-trips an image with its layers, big sizes, labels and digests", async () => {
    const image = makeImage({
      parentId: randomDigest(),
      variant: "v8",
      lastTagTime: new Date("2026-05-06T07:08:09.010Z"),
    });
    expect(await store.putImage(image)).toBe(true);
    expect(await store.putImage(image)).toBe(false);
    const stored = await store.getImage(image.id);
    expect(stored).toEqual(image);
    expect(stored?.id).toBeInstanceOf(Digest);
    expect(stored?.layers[0]?.blob).toBeInstanceOf(Digest);
    expect(typeof stored?.size).toBe("number");
    expect(await store.getImage(randomDigest())).toBeUndefined();
  });

  it("lists images and finds IDs by prefix", async () => {
    const a = makeImage({ id: Digest.fromHex("abc1" + "0".repeat(60)) });
    const b = makeImage({ id: Digest.fromHex("abc2" + "0".repeat(60)) });
    const c = makeImage({ id: Digest.fromHex("def0" + "0".repeat(60)) });
    for (const image of [a, b, c]) await store.putImage(image);
    expect((await store.listImages()).map((i) => i.id.toString()).sort()).toEqual([a, b, c].map((i) => i.id.toString()).sort());
    expect((await store.findImageIds("abc", 10)).map(String)).toEqual([a.id.toString(), b.id.toString()]);
    expect(await store.findImageIds("abc", 1)).toHaveLength(1);
    expect(await store.findImageIds("abc1", 10)).toEqual([a.id]);
    expect(await store.findImageIds("ABC1", 10)).toEqual([a.id]);
    expect(await store.findImageIds("%", 10)).toEqual([]);
    expect(await store.findImageIds("_bc", 10)).toEqual([]);
  });

  it("updates pinned and lastTagTime", async () => {
    const image = makeImage();
    await store.putImage(image);
    const when = new Date("2026-07-08T09:10:11.123Z");
    await store.updateImage(image.id, { pinned: true });
    await store.updateImage(image.id, { lastTagTime: when });
    expect(await store.getImage(image.id)).toMatchObject({ pinned: true, lastTagTime: when });
    await store.updateImage(image.id, { lastTagTime: null });
    expect((await store.getImage(image.id))?.lastTagTime).toBeNull();
    await store.updateImage(randomDigest(), { pinned: true }); // absent: nothing to update
  });

  it("deletes an untagged image with its layers, and refuses a tagged one", async () => {
    const image = makeImage();
    await store.putImage(image);
    await store.setTag("docker.io/library/redis", "7", image.id);
    await expect(store.deleteImage(image.id)).rejects.toBeInstanceOf(ConflictError);
    await store.deleteTag("docker.io/library/redis", "7");
    await store.deleteImage(image.id);
    expect(await store.getImage(image.id)).toBeUndefined();
    expect(await db.prisma.imageLayer.count({ where: { imageId: image.id.toString() } })).toBe(0);
    await store.deleteImage(image.id); // absent: nothing to do
  });
});

describe("PrismaMetadataStore: tags", () => {
  it("sets, replaces, lists and deletes tags", async () => {
    const one = makeImage();
    const two = makeImage();
    await store.putImage(one);
    await store.putImage(two);

    expect(await store.setTag("docker.io/library/redis", "7", one.id)).toBeUndefined();
    const first = await store.getTag("docker.io/library/redis", "7");
    expect(first).toMatchObject({
      repository: "docker.io/library/redis",
      tag: "7",
      imageId: one.id,
    });
    expect(first?.updatedAt).toBeInstanceOf(Date);

    const replaced = await store.setTag("docker.io/library/redis", "7", two.id);
    expect(replaced).toEqual(first);
    expect((await store.getTag("docker.io/library/redis", "7"))?.imageId).toEqual(two.id);

    await store.setTag("docker.io/library/redis", "latest", two.id);
    await store.setTag("docker.io/library/nginx", "1", one.id);
    await store.setTag("docker.io/library/redis-stack", "Z", one.id);
    // Code-unit order, as the in-memory store: "redis" < "redis-stack", "Z" < "a".
    expect((await store.listTags()).map((t) => `${t.repository} ${t.tag}`)).toEqual([
      "docker.io/library/nginx 1",
      "docker.io/library/redis 7",
      "docker.io/library/redis latest",
      "docker.io/library/redis-stack Z",
    ]);
    expect((await store.listTags({ imageId: two.id })).map((t) => t.tag)).toEqual(["7", "latest"]);
    expect((await store.listTags({ imageId: one.id })).map((t) => t.tag)).toEqual(["1", "Z"]);
    expect((await store.listTags({ repository: "docker.io/library/nginx" })).map((t) => t.tag)).toEqual(["1"]);
    expect(await store.listTags({ repository: "docker.io/library/nginx", imageId: two.id })).toEqual([]);

    await store.deleteTag("docker.io/library/redis", "7");
    expect(await store.getTag("docker.io/library/redis", "7")).toBeUndefined();
    await store.deleteTag("docker.io/library/redis", "7");
  });

  it("refuses to tag an image that is not in the store", async () => {
    await expect(store.setTag("docker.io/library/redis", "7", randomDigest())).rejects.toBeInstanceOf(NoSuchImageError);
  });

  it("reports each replaced record exactly once under concurrent setTag", async () => {
    const images = [makeImage(), makeImage(), makeImage(), makeImage()];
    for (const image of images) await store.putImage(image);
    const results = await Promise.all(images.map((image) => store.setTag("docker.io/x/y", "t", image.id)));
    // One call created the tag; every other call replaced exactly one earlier value.
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    const replacedIds = results.filter((r) => r !== undefined).map((r) => r.imageId.toString());
    expect(new Set(replacedIds).size).toBe(images.length - 1);
  });
});

describe("PrismaMetadataStore: blobs", () => {
  it("knows which blobs images reference, as layers or as configs", async () => {
    const image = makeImage();
    await store.putImage(image);
    expect(await store.isBlobReferenced(image.id)).toBe(true); // the config blob
    expect(await store.isBlobReferenced(image.layers[0]!.blob)).toBe(true);
    expect(await store.isBlobReferenced(image.layers[1]!.blob)).toBe(true);
    expect(await store.isBlobReferenced(image.layers[0]!.diffId)).toBe(false); // compressed layer: diffId is not a stored blob
    expect(await store.isBlobReferenced(randomDigest())).toBe(false);
    await store.deleteImage(image.id);
    expect(await store.isBlobReferenced(image.layers[0]!.blob)).toBe(false);
  });
});

describe("PrismaMetadataStore in a transaction", () => {
  it("commits an operation and its audit event together, or neither", async () => {
    const image = makeImage();
    await expect(
      db.prisma.$transaction(async (tx) => {
        const txStore = new PrismaMetadataStore(tx);
        await txStore.putImage(image);
        await appendAuditEvent(tx, {
          actorName: "alice",
          action: "image.load",
          interface: "cli",
          result: "ok",
        });
        throw new Error("later step failed");
      }),
    ).rejects.toThrow("later step failed");
    expect(await store.getImage(image.id)).toBeUndefined();
    expect((await listAuditEvents(db.prisma, { action: "image.load", limit: 5 })).events).toEqual([]);

    await db.prisma.$transaction(async (tx) => {
      const txStore = new PrismaMetadataStore(tx);
      expect(await txStore.putImage(image)).toBe(true);
      expect(await txStore.putImage(image)).toBe(false); // a duplicate does not abort the transaction
      await txStore.setTag("docker.io/library/redis", "7", image.id);
      await expect(txStore.deleteImage(image.id)).rejects.toBeInstanceOf(ConflictError); // nor does a refusal
      await appendAuditEvent(tx, {
        actorName: "alice",
        action: "image.load",
        interface: "cli",
        result: "ok",
      });
    });
    expect(await store.getImage(image.id)).toEqual(image);
    expect((await listAuditEvents(db.prisma, { action: "image.load", limit: 5 })).events).toHaveLength(1);
  });
});

// The engine's conformance suite (packages/engine/test/metadata-store-conformance.ts), each test on
// a fresh database. Loaded by path when present: it is written in parallel in the engine package.
const CONFORMANCE = fileURLToPath(new URL("../../engine/test/metadata-store-conformance.ts", import.meta.url));
if (existsSync(CONFORMANCE)) {
  const { describeMetadataStore } = (await import(CONFORMANCE)) as {
    describeMetadataStore: (name: string, factory: () => Promise<{ store: MetadataStore; cleanup?: () => Promise<void> }>) => void;
  };
  describeMetadataStore("PrismaMetadataStore", async () => {
    const fresh = await createTestDatabase();
    return { store: new PrismaMetadataStore(fresh.prisma), cleanup: () => fresh.drop() };
  });
} else {
  describe.skip("MetadataStore conformance (packages/engine/test/metadata-store-conformance.ts not written yet)", () => {
    it("runs once the suite exists", () => {});
  });
}
