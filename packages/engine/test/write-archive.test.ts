import { execFileSync } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

import { readArchive, type LoadedImage } from "../src/archive/read-archive";
import { writeArchive } from "../src/archive/write-archive";
import type { FsBlobStore } from "../src/fs-blob-store";
import { fixtures, type Fixtures } from "./fixtures";
import { POLICY_JSON, tarDirectory, tempDir, tempStore, unpackTar } from "./helpers";

let fx: Fixtures;
let store: FsBlobStore;
let loaded: LoadedImage[];
let policy: string;

/** Images loaded from the OCI layout, so their layers are stored gzip-compressed. */
beforeAll(async () => {
  fx = fixtures();
  const dir = await tempDir("berth-write-", "file");
  policy = join(dir, "policy.json");
  await writeFile(policy, POLICY_JSON);
  store = new (await import("../src/fs-blob-store")).FsBlobStore(join(dir, "store"));
  const layoutTar = tarDirectory(fx.layout, join(dir, "layout.tar"));
  loaded = (await readArchive(createReadStream(layoutTar), { blobs: store })).images;
});

function pick(...refs: string[]): LoadedImage[] {
  return refs.map((ref) => {
    const found = loaded.find((i) => i.image.id.toString() === fx.image(ref).configDigest)!;
    return { image: found.image, repoTags: [ref] };
  });
}

async function save(images: LoadedImage[]): Promise<string> {
  const file = join(await tempDir("berth-saved-"), "saved.tar");
  await writeArchive(images, { blobs: store, out: createWriteStream(file) });
  return file;
}

function skopeo(...args: string[]): string {
  return execFileSync("skopeo", ["--policy", policy, ...args], { encoding: "utf8" });
}

describe("writeArchive", () => {
  it("writes the Docker 25+ layout: blobs once, manifest.json, index.json, oci-layout, repositories", async () => {
    const file = await save(pick("fixtures/base:1.0", "fixtures/app:1.0", "fixtures/app:2.0"));
    const members = await unpackTar(await (await import("node:fs/promises")).readFile(file));
    const names = members.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    const base = fx.image("fixtures/base:1.0").layers[0]!.diffID.slice(7);
    expect(names.filter((n) => n === `blobs/sha256/${base}`)).toHaveLength(1);
    const manifest = JSON.parse(members.find((m) => m.name === "manifest.json")!.data!.toString()) as { Config: string }[];
    expect(manifest[1]).toEqual({
      Config: `blobs/sha256/${fx.image("fixtures/app:1.0").configDigest.slice(7)}`,
      RepoTags: ["fixtures/app:1.0"],
      Layers: fx.image("fixtures/app:1.0").layers.map((l) => `blobs/sha256/${l.diffID.slice(7)}`),
    });
    const index = JSON.parse(members.find((m) => m.name === "index.json")!.data!.toString()) as { manifests: { annotations?: object }[] };
    expect(index.manifests[1]!.annotations).toEqual({
      "io.containerd.image.name": "docker.io/fixtures/app:1.0",
      "org.opencontainers.image.ref.name": "1.0",
    });
    const repositories = JSON.parse(members.find((m) => m.name === "repositories")!.data!.toString()) as Record<string, object>;
    expect(repositories["fixtures/app"]).toEqual({
      "1.0": fx.image("fixtures/app:1.0").configDigest.slice(7),
      "2.0": fx.image("fixtures/app:2.0").configDigest.slice(7),
    });
  });

  it("round-trips through readArchive with the same image IDs and diff_ids", async () => {
    const images = pick("fixtures/app:1.0", "fixtures/app:2.0", "fixtures/multi:1.0-linux-arm64");
    const file = await save(images);
    const again = await readArchive(createReadStream(file), { blobs: await tempStore() });
    expect(again.images.map((i) => i.image.id.toString())).toEqual(images.map((i) => i.image.id.toString()));
    again.images.forEach((reloaded, i) => {
      expect(reloaded.repoTags).toEqual(images[i]!.repoTags);
      expect(reloaded.image.layers.map((l) => l.diffId.toString())).toEqual(images[i]!.image.layers.map((l) => l.diffId.toString()));
      expect(reloaded.image.layers.every((l) => l.blob.equals(l.diffId))).toBe(true);
      expect(reloaded.image.manifestDigest).not.toBeNull();
    });
  });

  it("is accepted by skopeo: inspect, and copy to an OCI layout that loads again", async () => {
    const file = await save(pick("fixtures/base:1.0", "fixtures/app:2.0"));
    const inspected = JSON.parse(skopeo("inspect", `docker-archive:${file}:fixtures/app:2.0`)) as {
      Layers: string[];
      Architecture: string;
    };
    expect(inspected.Layers).toEqual(fx.image("fixtures/app:2.0").layers.map((l) => l.diffID));

    const dir = await tempDir("berth-skopeo-oci-");
    skopeo("copy", "-q", `docker-archive:${file}:fixtures/app:2.0`, `oci:${join(dir, "layout")}:fixtures/app:2.0`);
    const layoutTar = tarDirectory(join(dir, "layout"), join(dir, "layout.tar"));
    const reloadedStore = await tempStore();
    const reloaded = await readArchive(createReadStream(layoutTar), { blobs: reloadedStore });
    expect(reloaded.images).toHaveLength(1);
    const { image, repoTags } = reloaded.images[0]!;
    expect(repoTags).toEqual(["fixtures/app:2.0"]);
    expect(image.layers.map((l) => l.diffId.toString())).toEqual(inspected.Layers);
    // skopeo re-serialises the config on the way to OCI (it does so for the fixture's own
    // archive too), so the ID changes but the content must not.
    const original = loaded.find((i) => i.image.id.toString() === fx.image("fixtures/app:2.0").configDigest)!.image;
    const json = async (s: FsBlobStore, id: typeof image.id) => JSON.parse((await s.read(id, 1e6)).toString()) as unknown;
    expect(await json(reloadedStore, image.id)).toEqual(await json(store, original.id));
  });

  it("stops with an error when the signal aborts", async () => {
    const controller = new AbortController();
    controller.abort(new Error("client went away"));
    const file = join(await tempDir(), "x.tar");
    await expect(
      writeArchive(pick("fixtures/base:1.0"), { blobs: store, out: createWriteStream(file), signal: controller.signal }),
    ).rejects.toThrow("client went away");
  });
});
