import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";

import { beforeAll, describe, expect, it } from "vitest";

import { readArchive, type ReadArchiveError } from "../src/archive/read-archive";
import { Digest } from "../src/digest";
import { EngineError } from "../src/errors";
import type { FsBlobStore } from "../src/fs-blob-store";
import { fixtures } from "./fixtures";
import { packTar, storeFiles, streamOf, tempStore, type TarMember } from "./helpers";

/**
 * Every rejection builds a real bad archive from the members of a good one
 * (fixtures/app:1.0 as skopeo writes it) and checks that the message names the
 * problem and that the store holds no blob afterwards.
 */
let good: TarMember[];
let manifest: { Config: string; RepoTags: string[]; Layers: string[] }[];
let goodTar: Buffer;

beforeAll(async () => {
  const { unpackTar } = await import("./helpers");
  goodTar = await readFile(join(fixtures().archives, "app-1.0.tar"));
  good = await unpackTar(goodTar);
  manifest = JSON.parse(member("manifest.json").data!.toString()) as typeof manifest;
});

function member(name: string): TarMember {
  return good.find((m) => m.name === name)!;
}

/** The good archive with members replaced (by name), removed (null) or added. */
function edited(changes: Record<string, TarMember | null>, extra: TarMember[] = []): TarMember[] {
  const out = good.flatMap((m) => (m.name in changes ? (changes[m.name] ? [changes[m.name]!] : []) : [m]));
  return [...out, ...extra];
}

async function expectRejected(input: Buffer | Readable, pattern: RegExp, opts: { store?: FsBlobStore; maxJsonBytes?: number } = {}) {
  const store = opts.store ?? (await tempStore());
  const before = await storeFiles(store);
  const err = (await readArchive(Buffer.isBuffer(input) ? streamOf(input) : input, {
    blobs: store,
    maxJsonBytes: opts.maxJsonBytes,
  }).then(
    () => undefined,
    (e: unknown) => e,
  )) as ReadArchiveError | undefined;
  expect(err, "readArchive should have failed").toBeInstanceOf(EngineError);
  expect(err!.message).toMatch(pattern);
  expect(Array.isArray(err!.createdBlobs)).toBe(true);
  expect(await storeFiles(store)).toEqual(before);
  return err!;
}

const configName = () => manifest[0]!.Config;
const appLayerName = () => manifest[0]!.Layers[1]!;

describe("readArchive rejects bad input and leaves no blob behind", () => {
  it("accepts the unmodified archive (sanity check of the test's repacking)", async () => {
    const store = await tempStore();
    const { images } = await readArchive(streamOf(await packTar(good)), { blobs: store });
    expect(images[0]!.repoTags).toEqual(["fixtures/app:1.0"]);
  });

  it("truncated tar (cut inside a layer)", async () => {
    await expectRejected(goodTar.subarray(0, 1_000_000), /archive is truncated: it ends inside member "[0-9a-f]{64}\.tar"/);
  });

  it("stream that ends between members, without the end-of-archive marker", async () => {
    await expectRejected(
      await packTar(good, { endMarker: false }),
      /truncated: it ends right after member "repositories", without the end-of-archive marker/,
    );
  });

  it("upload stream that fails half-way (client cut off)", async () => {
    const half = goodTar.subarray(0, 1_500_000);
    const input = new Readable({ read() {} });
    input.push(half.subarray(0, 700_000));
    setTimeout(() => {
      input.push(half.subarray(700_000));
      input.destroy(new Error("aborted"));
    }, 20);
    await expectRejected(input, /reading the archive failed: aborted/);
  });

  it("not a tar", async () => {
    await expectRejected(Buffer.from("this is not an archive\n".repeat(100)), /not a tar archive/);
    await expectRejected(Buffer.from("tiny"), /before the first tar header: it is not a tar archive/);
    await expectRejected(Buffer.alloc(0), /the archive is empty/);
  });

  it("corrupt or truncated gzip", async () => {
    const gz = gzipSync(goodTar);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 10, 40); // the first deflate block header
    await expectRejected(corrupt, /gzip compression is corrupt or truncated/);
    await expectRejected(gz.subarray(0, gz.length - 100_000), /gzip compression is corrupt or truncated \(unexpected end of file\)/);
  });

  it("manifest.json missing, not JSON, or pointing at missing files", async () => {
    await expectRejected(await packTar(edited({ "manifest.json": null })), /manifest\.json is missing/);
    await expectRejected(
      await packTar(edited({ "manifest.json": { name: "manifest.json", data: Buffer.from("[{not json") } })),
      /manifest\.json is not valid JSON/,
    );
    const missing = [{ ...manifest[0]!, Layers: [manifest[0]!.Layers[0]!, "nope/layer.tar"] }];
    await expectRejected(
      await packTar(edited({ "manifest.json": { name: "manifest.json", data: Buffer.from(JSON.stringify(missing)) } })),
      /layer "nope\/layer\.tar" is not in the archive/,
    );
    const noConfig = [{ ...manifest[0]!, Config: `${"0".repeat(64)}.json` }];
    await expectRejected(
      await packTar(edited({ "manifest.json": { name: "manifest.json", data: Buffer.from(JSON.stringify(noConfig)) } })),
      /config "0{64}\.json" is not in the archive/,
    );
  });

  it("layer whose diff_id differs from the config", async () => {
    const layer = member(appLayerName());
    const data = Buffer.from(layer.data!);
    data[600] = data[600]! ^ 0xff; // inside the first file's content
    await expectRejected(
      await packTar(edited({ [layer.name]: { ...layer, data } })),
      new RegExp(`layer "${appLayerName()}" differs from the config's rootfs.diff_ids\\[1\\]: digest mismatch`),
    );
  });

  it("config whose digest differs from its name", async () => {
    const config = member(configName());
    const data = Buffer.concat([config.data!, Buffer.from(" ")]);
    await expectRejected(
      await packTar(edited({ [config.name]: { ...config, data } })),
      new RegExp(`config "${configName()}" does not match its name: digest mismatch: expected sha256:${configName().slice(0, 64)}`),
    );
  });

  it("blob under blobs/sha256 whose content differs from its name", async () => {
    const hex = "a".repeat(64);
    await expectRejected(
      await packTar([{ name: `blobs/sha256/${hex}`, data: Buffer.from("not that") }]),
      new RegExp(`member "blobs/sha256/${hex}" does not match its name`),
    );
  });

  it("member names with .. or absolute paths", async () => {
    await expectRejected(
      await packTar(edited({}, [{ name: "../evil", data: Buffer.from("x") }])),
      /member "\.\.\/evil" has a "\.\." path segment/,
    );
    await expectRejected(
      await packTar(edited({}, [{ name: "/etc/cron.d/evil", data: Buffer.from("x") }])),
      /member "\/etc\/cron\.d\/evil" has an absolute path/,
    );
  });

  it("symlinks or hard links standing for metadata files", async () => {
    const moved = { ...member("manifest.json"), name: "real-manifest" };
    await expectRejected(
      await packTar(edited({ "manifest.json": { name: "manifest.json", type: "symlink", linkname: "real-manifest" } }, [moved])),
      /member "manifest\.json" is a symlink; metadata files must be regular files/,
    );
    const config = member(configName());
    await expectRejected(
      await packTar(
        edited({ [config.name]: { name: config.name, type: "link", linkname: "elsewhere" } }, [{ ...config, name: "elsewhere" }]),
      ),
      new RegExp(`member "${configName()}" is a link; metadata files must be regular files`),
    );
    await expectRejected(
      await packTar(edited({ repositories: { name: "repositories", type: "symlink", linkname: "manifest.json" } })),
      /member "repositories" is a symlink/,
    );
  });

  it("layer symlinks pointing outside the archive", async () => {
    const link = good.find((m) => m.type === "symlink")!;
    await expectRejected(
      await packTar(edited({ [link.name]: { ...link, linkname: "../../etc/shadow" } })),
      /is a symlink to "\.\.\/\.\.\/etc\/shadow", outside the archive/,
    );
  });

  it("duplicate members", async () => {
    const config = member(configName());
    await expectRejected(await packTar(edited({}, [config])), new RegExp(`member "${configName()}" appears twice`));
  });

  it("JSON member larger than the cap", async () => {
    const err = await expectRejected(
      await packTar(good),
      /member "[0-9a-f]{64}\.json" is 1391 bytes, more than the 1000-byte limit for JSON/,
      {
        maxJsonBytes: 1000,
      },
    );
    expect((err as unknown as EngineError).code).toBe("TOO_LARGE");
  });

  it("keeps blobs that were in the store before a failed load", async () => {
    const store = await tempStore();
    const base = member(manifest[0]!.Layers[0]!);
    const existing = await store.put(base.data!);
    const layer = member(appLayerName());
    const data = Buffer.from(layer.data!);
    data[600] = data[600]! ^ 0xff;
    const err = await expectRejected(await packTar(edited({ [layer.name]: { ...layer, data } })), /differs from the config/, { store });
    expect(await store.has(existing)).toBe(true);
    expect(err.createdBlobs.map(String)).not.toContain(existing.toString());
    expect(err.createdBlobs.length).toBeGreaterThan(0);
    expect(err.createdBlobs.every((d) => d instanceof Digest)).toBe(true);
  });
});

describe("readArchive with deferCleanup", () => {
  it("leaves the blobs it created for the caller, and names them", async () => {
    const store = await tempStore();
    const layer = member(appLayerName());
    const data = Buffer.from(layer.data!);
    data[600] = data[600]! ^ 0xff;
    const err = (await readArchive(streamOf(await packTar(edited({ [layer.name]: { ...layer, data } }))), {
      blobs: store,
      deferCleanup: true,
    }).catch((e: unknown) => e)) as ReadArchiveError;
    expect(err.message).toMatch(/differs from the config/);
    expect(err.createdBlobs.length).toBeGreaterThan(0);
    for (const digest of err.createdBlobs) expect(await store.has(digest)).toBe(true);
    // The caller's cleanup: after it, the store is as before.
    for (const digest of err.createdBlobs) await store.delete(digest);
    expect(await storeFiles(store)).toEqual([]);
  });
});
