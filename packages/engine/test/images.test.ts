import { beforeEach, describe, expect, it } from "vitest";

import { Digest } from "../src/digest";
import { AmbiguousImageError, ConflictError, InvalidArgumentError, NoSuchImageError } from "../src/errors";
import { formatItems } from "../src/format/docker-format";
import type { FsBlobStore } from "../src/fs-blob-store";
import { diskUsage, formatReclaimable } from "../src/images/disk-usage";
import { parseFilterFlags } from "../src/images/filters";
import { gcBlobs } from "../src/images/gc";
import { imageHistory } from "../src/images/history";
import { inspectImage } from "../src/images/inspect";
import { listImages } from "../src/images/list";
import { pruneImages } from "../src/images/prune";
import { removeImages } from "../src/images/remove";
import { resolveImage } from "../src/images/resolve";
import { tagImage } from "../src/images/tag";
import { TagChangeDeniedError, type TagChange, type TagPolicy } from "../src/images/tag-policy";
import { MemoryMetadataStore } from "../src/memory-metadata-store";
import type { ImageRecord } from "../src/metadata";
import { normalizedName, parseReference } from "../src/reference";
import { tempStore } from "./helpers";

interface Env {
  meta: MemoryMetadataStore;
  blobs: FsBlobStore;
}

interface ImageSpec {
  tags?: string[];
  created?: string;
  /** Layer keys; the same key in two images is the same layer. */
  layers?: [key: string, size: number][];
  labels?: Record<string, string>;
  parent?: ImageRecord;
  manifest?: string;
  pinned?: boolean;
  config?: Record<string, unknown>;
  history?: Record<string, unknown>[];
}

let counter = 0;

/** Stores a real config blob and its ImageRecord; the ID is the config's digest, as in docker. */
async function addImage(env: Env, spec: ImageSpec = {}): Promise<ImageRecord> {
  counter++;
  const layers = (spec.layers ?? [[`layer-${counter}`, 1000]]).map(([key, size]) => ({
    diffId: Digest.of(`diff-${key}`),
    blob: layerBlob(key),
    blobSize: Math.floor(size / 2),
    size,
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  }));
  const created = spec.created ?? `2024-01-${String((counter % 28) + 1).padStart(2, "0")}T00:00:00Z`;
  const config = {
    created,
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/bin"], Cmd: ["/bin/sh"], Labels: spec.labels ?? {}, ...spec.config },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId.toString()) },
    history: spec.history ?? layers.map((_, i) => ({ created, created_by: `step ${i}` })),
    nonce: counter,
  };
  const raw = JSON.stringify(config);
  const id = await env.blobs.put(Buffer.from(raw));
  for (const [key] of spec.layers ?? []) await env.blobs.put(Buffer.from(`blob-${key}`));
  const record: ImageRecord = {
    id,
    created: new Date(created),
    architecture: "amd64",
    os: "linux",
    variant: null,
    size: layers.reduce((a, l) => a + l.size, 0),
    configSize: raw.length,
    layers,
    labels: spec.labels ?? {},
    parentId: spec.parent?.id ?? null,
    manifestDigest: spec.manifest ? Digest.of(spec.manifest) : null,
    manifestMediaType: spec.manifest ? "application/vnd.oci.image.manifest.v1+json" : null,
    pinned: spec.pinned ?? false,
    loadedAt: new Date("2024-06-01T00:00:00Z"),
    lastTagTime: null,
  };
  await env.meta.putImage(record);
  for (const t of spec.tags ?? []) {
    const ref = parseReference(t);
    await env.meta.setTag(normalizedName(ref), ref.tag ?? "latest", id);
  }
  return record;
}

function layerBlob(key: string): Digest {
  return Digest.of(`blob-${key}`);
}

let env: Env;
beforeEach(async () => {
  env = { meta: new MemoryMetadataStore(), blobs: await tempStore() };
});

const rowKey = (r: { repository: string; tag: string }) => `${r.repository}:${r.tag}`;

describe("resolveImage", () => {
  it("finds images by full ID, bare hex, unique prefix with or without sha256:, and by name", async () => {
    const app = await addImage(env, { tags: ["fixtures/app:1.0", "redis"] });
    await addImage(env);
    const { meta } = env;
    const id = app.id.toString();
    for (const ref of [
      id,
      app.id.hex,
      app.id.hex.slice(0, 12),
      `sha256:${app.id.hex.slice(0, 12)}`,
      "fixtures/app:1.0",
      "redis",
      "redis:latest",
      "docker.io/library/redis",
    ]) {
      expect((await resolveImage({ meta, ref })).id.toString(), ref).toBe(id);
    }
  });

  it("name@digest matches the manifest digest of an image tagged in that repository", async () => {
    const app = await addImage(env, { tags: ["fixtures/app:1.0"], manifest: "m1" });
    const digest = Digest.of("m1").toString();
    expect((await resolveImage({ meta: env.meta, ref: `fixtures/app@${digest}` })).id.toString()).toBe(app.id.toString());
    await expect(resolveImage({ meta: env.meta, ref: `other/app@${digest}` })).rejects.toThrow(`No such image: other/app@${digest}`);
  });

  it("unknown names and IDs are `No such image` with docker's wording", async () => {
    await expect(resolveImage({ meta: env.meta, ref: "nope" })).rejects.toThrow(new NoSuchImageError("nope:latest"));
    const missing = Digest.of("missing").toString();
    await expect(resolveImage({ meta: env.meta, ref: missing })).rejects.toThrow(`No such image: ${missing}`);
    await expect(resolveImage({ meta: env.meta, ref: "UPPER" })).rejects.toThrow(
      "invalid reference format: repository name (library/UPPER) must be lowercase",
    );
  });

  it("an ambiguous prefix is an error; a tagged name beats an ID prefix", async () => {
    const images: ImageRecord[] = [];
    let shared: string | undefined;
    while (!shared) {
      images.push(await addImage(env));
      const firsts = images.map((i) => i.id.hex[0]);
      shared = firsts.find((c, i) => firsts.indexOf(c) !== i);
    }
    await expect(resolveImage({ meta: env.meta, ref: shared })).rejects.toThrow(AmbiguousImageError);
    const other = images[0] as ImageRecord;
    const named = await addImage(env, { tags: [`${other.id.hex.slice(0, 6)}:latest`] });
    expect((await resolveImage({ meta: env.meta, ref: other.id.hex.slice(0, 6) })).id.toString()).toBe(named.id.toString());
  });
});

describe("listImages (docker images)", () => {
  it("one row per tag, <none> for dangling images, intermediates only with -a, newest first", async () => {
    const parent = await addImage(env, { created: "2024-01-01T00:00:00Z" });
    const app = await addImage(env, {
      tags: ["fixtures/app:1.0", "fixtures/app:latest", "ghcr.io/org/app:v1"],
      parent,
      created: "2024-01-03T00:00:00Z",
      manifest: "m",
    });
    await addImage(env, { created: "2024-01-02T00:00:00Z" });
    const rows = await listImages({ meta: env.meta });
    expect(rows.map(rowKey)).toEqual(["fixtures/app:1.0", "fixtures/app:latest", "ghcr.io/org/app:v1", "<none>:<none>"]);
    expect(rows[0]).toMatchObject({ id: app.id.toString(), digest: Digest.of("m").toString(), size: 1000 });
    expect(rows[3]?.digest).toBe("<none>");
    const all = await listImages({ meta: env.meta, all: true });
    expect(all.map(rowKey)).toEqual([...rows.map(rowKey), "<none>:<none>"]);
    expect(all[4]?.id).toBe(parent.id.toString());
  });

  it("filters: dangling, reference (OR, glob), label, before/since, and the REPOSITORY[:TAG] argument", async () => {
    const old = await addImage(env, { tags: ["redis:7"], created: "2024-01-01T00:00:00Z", labels: { tier: "db" } });
    await addImage(env, { tags: ["fixtures/app:1.0"], created: "2024-01-02T00:00:00Z", labels: { tier: "web", team: "a" } });
    await addImage(env, { tags: ["fixtures/app:2.0"], created: "2024-01-03T00:00:00Z", labels: { tier: "web" } });
    await addImage(env, { created: "2024-01-04T00:00:00Z" });
    const list = async (flags: string[], reference?: string) =>
      (await listImages({ meta: env.meta, filters: parseFilterFlags(flags), reference })).map(rowKey);
    expect(await list(["dangling=true"])).toEqual(["<none>:<none>"]);
    expect(await list(["dangling=false"])).toEqual(["fixtures/app:2.0", "fixtures/app:1.0", "redis:7"]);
    expect(await list(["reference=fixtures/*:1.*", "reference=redis"])).toEqual(["fixtures/app:1.0", "redis:7"]);
    expect(await list(["label=tier=web"])).toEqual(["fixtures/app:2.0", "fixtures/app:1.0"]);
    expect(await list(["label=tier=web", "label=team"])).toEqual(["fixtures/app:1.0"]);
    expect(await list(["since=redis:7"])).toEqual(["<none>:<none>", "fixtures/app:2.0", "fixtures/app:1.0"]);
    expect(await list([`before=${old.id.hex.slice(0, 12)}`])).toEqual([]);
    expect(await list(["before=fixtures/app:2.0"])).toEqual(["fixtures/app:1.0", "redis:7"]);
    expect(await list([], "fixtures/app")).toEqual(["fixtures/app:2.0", "fixtures/app:1.0"]);
    expect(await list([], "fixtures/app:1.0")).toEqual(["fixtures/app:1.0"]);
  });

  it("rejects unknown filters and bad values with the daemon's messages", async () => {
    await expect(listImages({ meta: env.meta, filters: { x: ["1"] } })).rejects.toThrow(new InvalidArgumentError("invalid filter 'x'"));
    await expect(listImages({ meta: env.meta, filters: { dangling: ["maybe"] } })).rejects.toThrow("invalid filter 'dangling=[maybe]'");
    await expect(listImages({ meta: env.meta, filters: { before: ["nope"] } })).rejects.toThrow("No such image: nope:latest");
    expect(() => parseFilterFlags(["dangling"])).toThrow("bad format of filter (expected name=value)");
  });

  it("shared and unique sizes count layers other images use too (by diffId)", async () => {
    await addImage(env, {
      tags: ["a"],
      layers: [
        ["base", 4000],
        ["a", 100],
      ],
    });
    await addImage(env, {
      tags: ["b"],
      layers: [
        ["base", 4000],
        ["b", 200],
      ],
    });
    const rows = await listImages({ meta: env.meta });
    const a = rows.find((r) => r.repository === "a");
    expect(a).toMatchObject({ size: 4100, sharedSize: 4000, uniqueSize: 100 });
  });
});

describe("inspectImage", () => {
  it("prints docker's keys, in docker's order, with docker's values", async () => {
    const parent = await addImage(env);
    const image = await addImage(env, {
      tags: ["fixtures/app:1.0", "fixtures/app:latest"],
      manifest: "m",
      parent,
      created: "2024-01-01T00:00:00.500000000Z",
      labels: { "com.example.k": "v" },
      config: { ExposedPorts: { "8080/tcp": {} }, WorkingDir: "/app", User: "65534:65534", StopSignal: "SIGTERM" },
      layers: [["l1", 1234]],
    });
    const out = await inspectImage({ meta: env.meta, blobs: env.blobs, ref: "fixtures/app:1.0" });
    expect(Object.keys(out)).toEqual([
      "Id",
      "RepoTags",
      "RepoDigests",
      "Parent",
      "Comment",
      "Created",
      "DockerVersion",
      "Author",
      "Config",
      "Architecture",
      "Os",
      "Size",
      "RootFS",
      "Metadata",
    ]);
    expect(out).toMatchObject({
      Id: image.id.toString(),
      RepoTags: ["fixtures/app:1.0", "fixtures/app:latest"],
      RepoDigests: [`fixtures/app@${Digest.of("m").toString()}`],
      Parent: parent.id.toString(),
      Created: "2024-01-01T00:00:00.5Z",
      DockerVersion: "",
      Architecture: "amd64",
      Os: "linux",
      Size: 1234,
      RootFS: { Type: "layers", Layers: [Digest.of("diff-l1").toString()] },
      Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
    });
    expect(JSON.stringify(out.Config)).toBe(
      '{"Hostname":"","Domainname":"","User":"65534:65534","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,' +
        '"ExposedPorts":{"8080/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/bin"],"Cmd":["/bin/sh"],' +
        '"Image":"","Volumes":null,"WorkingDir":"/app","Entrypoint":null,"OnBuild":null,"Labels":{"com.example.k":"v"},"StopSignal":"SIGTERM"}',
    );
    // Templates see the inspect object as docker's struct: `{{.Config.Labels}}`, `{{json .RootFS}}`.
    expect(formatItems({ format: "{{.Config.Labels}} {{json .RootFS}} {{.Metadata.LastTagTime}}", items: [out] })).toBe(
      `map[com.example.k:v] {"Type":"layers","Layers":["${Digest.of("diff-l1").toString()}"]} 0001-01-01T00:00:00Z\n`,
    );
  });

  it("an untagged image has empty RepoTags/RepoDigests and no Parent; LastTagTime follows tagImage", async () => {
    const image = await addImage(env);
    const out = await inspectImage({ meta: env.meta, blobs: env.blobs, ref: image.id.hex.slice(0, 12) });
    expect(out).toMatchObject({ RepoTags: [], RepoDigests: [], Parent: "" });
    await tagImage({ meta: env.meta, source: image.id.toString(), target: "x:1", now: new Date("2024-05-01T12:00:00.250Z") });
    const after = await inspectImage({ meta: env.meta, blobs: env.blobs, ref: "x:1" });
    expect(after.Metadata.LastTagTime).toBe("2024-05-01T12:00:00.25Z");
    expect(after.RepoTags).toEqual(["x:1"]);
  });
});

describe("imageHistory", () => {
  it("newest first, <missing> below the image, layer sizes for non-empty steps, CREATED BY cut to 45", async () => {
    const long = "/bin/sh -c #(nop) ADD file:9e4b2bd5f8f4e4d0b1a2c3d4e5f6a7b8c9d0e1f2 in / ";
    const image = await addImage(env, {
      tags: ["fixtures/base:1.0"],
      layers: [["b", 4_270_000]],
      history: [
        { created: "2024-01-01T00:00:00Z", created_by: long },
        { created: "2024-01-01T00:00:01Z", created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true, comment: "c" },
      ],
    });
    const rows = await imageHistory({ meta: env.meta, blobs: env.blobs, ref: "fixtures/base:1.0" });
    expect(rows.map((r) => [r.id, r.createdBy, r.size, r.comment])).toEqual([
      [image.id.toString(), '/bin/sh -c #(nop)  CMD ["sh"]', 0, "c"],
      ["<missing>", `${long.slice(0, 44)}…`, 4_270_000, ""],
    ]);
    expect(rows[0]?.tags).toEqual(["fixtures/base:1.0"]);
    const full = await imageHistory({ meta: env.meta, blobs: env.blobs, ref: "fixtures/base:1.0", noTrunc: true });
    expect(full[1]?.createdBy).toBe(long);
  });

  it("names rows of a locally built parent that is still present", async () => {
    const parent = await addImage(env, { history: [{ created_by: "p" }], layers: [["p", 1]] });
    const child = await addImage(env, {
      parent,
      history: [{ created_by: "p" }, { created_by: "c" }],
      layers: [
        ["p", 1],
        ["c", 2],
      ],
    });
    const rows = await imageHistory({ meta: env.meta, blobs: env.blobs, ref: child.id.toString() });
    expect(rows.map((r) => r.id)).toEqual([child.id.toString(), parent.id.toString()]);
  });
});

describe("tagImage", () => {
  it("normalises the target, defaults to latest, and reports the tag it moved", async () => {
    const a = await addImage(env, { tags: ["app:1"] });
    const b = await addImage(env);
    const first = await tagImage({ meta: env.meta, source: "app:1", target: "app" });
    expect(first.previous).toBeUndefined();
    expect(first.repository).toBe("docker.io/library/app");
    expect(first.tag).toBe("latest");
    const moved = await tagImage({ meta: env.meta, source: b.id.toString(), target: "docker.io/library/app:1" });
    expect(moved.previous?.imageId.toString()).toBe(a.id.toString());
    expect(moved.image.lastTagTime).toBeInstanceOf(Date);
    await expect(tagImage({ meta: env.meta, source: "app", target: `app@${Digest.of("x").toString()}` })).rejects.toThrow(
      "refusing to create a tag with a digest reference",
    );
    await expect(tagImage({ meta: env.meta, source: "app", target: "Bad:tag" })).rejects.toThrow("must be lowercase");
  });
});

describe("removeImages (docker rmi)", () => {
  it("by name untags; the image goes with its last tag", async () => {
    const image = await addImage(env, { tags: ["fixtures/app:1.0", "fixtures/app:latest"], layers: [["x", 10]] });
    let out = await removeImages({ meta: env.meta, refs: ["fixtures/app:1.0"] });
    expect(out.results[0]?.records).toEqual([{ untagged: "fixtures/app:1.0" }]);
    expect(out.blobsToCheck).toEqual([]);
    out = await removeImages({ meta: env.meta, refs: ["fixtures/app"] });
    expect(out.results[0]?.records).toEqual([{ untagged: "fixtures/app:latest" }, { deleted: image.id.toString() }]);
    expect(out.blobsToCheck.map(String).sort()).toEqual([image.id.toString(), Digest.of("blob-x").toString()].sort());
    expect(await env.meta.getImage(image.id)).toBeUndefined();
  });

  it("by ID: more than one tag needs force; one tag is untagged and deleted", async () => {
    const multi = await addImage(env, { tags: ["a:1", "b:1"] });
    const short = multi.id.short;
    let out = await removeImages({ meta: env.meta, refs: [short] });
    expect(out.results[0]?.error).toBeInstanceOf(ConflictError);
    expect(out.results[0]?.error?.message).toBe(
      `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
    );
    out = await removeImages({ meta: env.meta, refs: [short], force: true });
    expect(out.results[0]?.records).toEqual([{ untagged: "a:1" }, { untagged: "b:1" }, { deleted: multi.id.toString() }]);

    const single = await addImage(env, { tags: ["c:1"] });
    out = await removeImages({ meta: env.meta, refs: [single.id.toString()] });
    expect(out.results[0]?.records).toEqual([{ untagged: "c:1" }, { deleted: single.id.toString() }]);
  });

  it("an image with children cannot be deleted by ID, even forced; errors do not stop other refs", async () => {
    const parent = await addImage(env, { tags: ["base:1"] });
    await addImage(env, { parent, tags: ["child:1"] });
    const other = await addImage(env, { tags: ["other:1"] });
    const out = await removeImages({ meta: env.meta, refs: [parent.id.hex.slice(0, 12), "nope", "other:1"], force: true });
    expect(out.results.map((r) => r.error?.message)).toEqual([
      `conflict: unable to delete ${parent.id.short} (cannot be forced) - image has dependent child images`,
      "No such image: nope:latest",
      undefined,
    ]);
    expect(out.results[2]?.records).toEqual([{ untagged: "other:1" }, { deleted: other.id.toString() }]);
    // By name, the last tag of a parent is only untagged: the image stays for its child.
    const byName = await removeImages({ meta: env.meta, refs: ["base:1"] });
    expect(byName.results[0]?.records).toEqual([{ untagged: "base:1" }]);
    expect(await env.meta.getImage(parent.id)).toBeDefined();
  });

  it("deleting a child also deletes its untagged parent (unless --no-prune)", async () => {
    const parent = await addImage(env);
    const child = await addImage(env, { parent, tags: ["child:1"] });
    const out = await removeImages({ meta: env.meta, refs: ["child:1"] });
    expect(out.results[0]?.records).toEqual([{ untagged: "child:1" }, { deleted: child.id.toString() }, { deleted: parent.id.toString() }]);
    const p2 = await addImage(env);
    await addImage(env, { parent: p2, tags: ["c2:1"] });
    const kept = await removeImages({ meta: env.meta, refs: ["c2:1"], noPrune: true });
    expect(kept.results[0]?.records.filter((r) => "deleted" in r)).toHaveLength(1);
    expect(await env.meta.getImage(p2.id)).toBeDefined();
  });
});

/** Refuses every change to tags named `release-*`, and remembers what it was asked. */
function releasePolicy(): TagPolicy & { asked: TagChange[] } {
  const asked: TagChange[] = [];
  return {
    asked,
    checkTagChange(change) {
      asked.push(change);
      return change.tag.startsWith("release-")
        ? Promise.reject(new TagChangeDeniedError(`tag ${change.repository}:${change.tag} is protected`))
        : Promise.resolve();
    },
  };
}

describe("tag policy and pinned images", () => {
  it("tagImage asks before moving an existing tag, not when creating one or re-tagging the same image", async () => {
    const a = await addImage(env, { tags: ["team/app:release-1", "team/app:dev"] });
    const b = await addImage(env);
    const policy = releasePolicy();
    await tagImage({ meta: env.meta, source: a.id.toString(), target: "team/app:release-1", policy });
    await tagImage({ meta: env.meta, source: b.id.toString(), target: "team/app:release-2", policy });
    expect(policy.asked).toEqual([]);
    await expect(tagImage({ meta: env.meta, source: b.id.toString(), target: "team/app:release-1", policy })).rejects.toThrow(
      new TagChangeDeniedError("tag docker.io/team/app:release-1 is protected"),
    );
    expect((await env.meta.getTag("docker.io/team/app", "release-1"))?.imageId.toString()).toBe(a.id.toString());
    await tagImage({ meta: env.meta, source: b.id.toString(), target: "team/app:dev", policy });
    expect(policy.asked.map((c) => [c.tag, c.from.toString(), c.to?.toString()])).toEqual([
      ["release-1", a.id.toString(), b.id.toString()],
      ["dev", a.id.toString(), b.id.toString()],
    ]);
  });

  it("rmi asks about every tag before removing any: a refusal fails that ref and changes nothing, even forced", async () => {
    const image = await addImage(env, { tags: ["team/app:a-first", "team/app:release-1"] });
    const other = await addImage(env, { tags: ["team/other:1"] });
    const policy = releasePolicy();
    const out = await removeImages({
      meta: env.meta,
      refs: [image.id.toString(), "team/app:release-1", "team/other:1"],
      force: true,
      policy,
    });
    expect(out.results.map((r) => r.error?.message)).toEqual([
      "tag docker.io/team/app:release-1 is protected",
      "tag docker.io/team/app:release-1 is protected",
      undefined,
    ]);
    expect(out.results[0]?.error?.code).toBe("FORBIDDEN");
    expect(out.results[0]?.records).toEqual([]);
    expect((await env.meta.listTags({ imageId: image.id })).map((t) => t.tag).sort()).toEqual(["a-first", "release-1"]);
    expect(await env.meta.getImage(other.id)).toBeUndefined();
    // The unprotected tag alone may go.
    const untag = await removeImages({ meta: env.meta, refs: ["team/app:a-first"], policy });
    expect(untag.results[0]?.records).toEqual([{ untagged: "team/app:a-first" }]);
  });

  it("a pinned image is not deleted by rmi, by ID or by its last name, forced or not; extra names may go", async () => {
    const image = await addImage(env, { tags: ["pin/app:1", "pin/app:2"], pinned: true });
    const message = `conflict: unable to delete ${image.id.short} (cannot be forced) - image is pinned; unpin it first`;
    for (const force of [false, true]) {
      const out = await removeImages({ meta: env.meta, refs: [image.id.toString()], force });
      expect(out.results[0]?.error?.message).toBe(message);
    }
    expect((await removeImages({ meta: env.meta, refs: ["pin/app:1"] })).results[0]?.records).toEqual([{ untagged: "pin/app:1" }]);
    const last = await removeImages({ meta: env.meta, refs: ["pin/app:2"], force: true });
    expect(last.results[0]?.error?.message).toBe(message);
    expect((await env.meta.listTags({ imageId: image.id })).map((t) => t.tag)).toEqual(["2"]);
    await env.meta.updateImage(image.id, { pinned: false });
    expect((await removeImages({ meta: env.meta, refs: ["pin/app:2"] })).results[0]?.records).toEqual([
      { untagged: "pin/app:2" },
      { deleted: image.id.toString() },
    ]);
  });

  it("prune keeps pinned images in both modes and says why, including a pinned parent of a pruned child", async () => {
    const pinned = await addImage(env, { pinned: true, layers: [["pin", 70]] });
    const pinnedParent = await addImage(env, { pinned: true, layers: [["pp", 30]] });
    const child = await addImage(env, {
      parent: pinnedParent,
      layers: [
        ["pp", 30],
        ["c", 5],
      ],
    });
    for (const all of [false, true]) {
      const dry = await pruneImages({ meta: env.meta, all, dryRun: true });
      expect(dry.deleted).toEqual([child.id.toString()]);
      expect(dry.skipped).toEqual(
        expect.arrayContaining([
          { id: pinned.id.toString(), reason: "pinned" },
          { id: pinnedParent.id.toString(), reason: "pinned" },
        ]),
      );
      expect(dry.skipped).toHaveLength(2);
      expect(dry.spaceReclaimed).toBe(5);
    }
    await pruneImages({ meta: env.meta, all: true });
    expect(await env.meta.getImage(pinned.id)).toBeDefined();
    expect(await env.meta.getImage(pinnedParent.id)).toBeDefined();
    expect(await env.meta.getImage(child.id)).toBeUndefined();
  });
});

describe("pruneImages", () => {
  it("removes dangling images only; tagged, pinned and parents of kept images stay", async () => {
    const dangling = await addImage(env, { layers: [["d", 500]] });
    const pinned = await addImage(env, { pinned: true });
    const tagged = await addImage(env, { tags: ["keep:1"], layers: [["shared", 100]] });
    const parent = await addImage(env, { layers: [["shared", 100]] });
    await addImage(env, { parent, tags: ["kid:1"] });
    const out = await pruneImages({ meta: env.meta });
    expect(out.deleted).toEqual([dangling.id.toString()]);
    expect(out.spaceReclaimed).toBe(500);
    expect(out.untagged).toEqual([]);
    expect(out.blobsToCheck.map(String)).toContain(Digest.of("blob-d").toString());
    expect(await env.meta.getImage(pinned.id)).toBeDefined();
    expect(await env.meta.getImage(tagged.id)).toBeDefined();
    expect(await env.meta.getImage(parent.id)).toBeDefined();
  });

  it("all: every untagged image that is not pinned", async () => {
    const parent = await addImage(env, { layers: [["p", 300]] });
    await addImage(env, {
      parent,
      tags: ["kid:1"],
      layers: [
        ["p", 300],
        ["k", 1],
      ],
    });
    const out = await pruneImages({ meta: env.meta, all: true });
    expect(out.deleted).toEqual([parent.id.toString()]);
    expect(out.spaceReclaimed).toBe(0); // its layer is still used by kid:1
  });

  it("an untagged parent goes with its last dangling child", async () => {
    const parent = await addImage(env, { layers: [["p", 300]] });
    const child = await addImage(env, {
      parent,
      layers: [
        ["p", 300],
        ["c", 50],
      ],
    });
    const out = await pruneImages({ meta: env.meta });
    expect(out.deleted).toEqual([child.id.toString(), parent.id.toString()]);
    expect(out.spaceReclaimed).toBe(350);
  });

  it("until and label filters; dry run deletes nothing", async () => {
    const old = await addImage(env, { created: "2024-01-01T00:00:00Z", labels: { keep: "no" } });
    const recent = await addImage(env, { created: "2024-03-01T00:00:00Z" });
    const now = new Date("2024-03-02T00:00:00Z");
    const dry = await pruneImages({ meta: env.meta, filters: { until: ["720h"] }, dryRun: true, now });
    expect(dry.deleted).toEqual([old.id.toString()]);
    expect(dry.blobsToCheck).toEqual([]);
    expect(await env.meta.getImage(old.id)).toBeDefined();
    expect((await pruneImages({ meta: env.meta, filters: { until: ["2024-02-01T00:00:00Z"] }, dryRun: true })).deleted).toEqual([
      old.id.toString(),
    ]);
    expect((await pruneImages({ meta: env.meta, filters: { "label!": ["keep=no"] }, dryRun: true })).deleted).toEqual([
      recent.id.toString(),
    ]);
    expect((await pruneImages({ meta: env.meta, filters: { label: ["keep"] }, dryRun: true })).deleted).toEqual([old.id.toString()]);
    await expect(pruneImages({ meta: env.meta, filters: { until: ["soon"] } })).rejects.toThrow(
      'failed to parse value as time or duration: "soon"',
    );
    await expect(pruneImages({ meta: env.meta, filters: { reference: ["x"] } })).rejects.toThrow("invalid filter 'reference'");
  });
});

describe("diskUsage (docker system df)", () => {
  it("counts shared layers once; active = tagged; reclaimable = layers only untagged images use", async () => {
    await addImage(env, {
      tags: ["a:1"],
      layers: [
        ["base", 4000],
        ["a", 100],
      ],
    });
    await addImage(env, {
      tags: ["b:1"],
      layers: [
        ["base", 4000],
        ["b", 200],
      ],
    });
    await addImage(env, {
      layers: [
        ["base", 4000],
        ["old", 700],
      ],
    });
    const du = await diskUsage({ meta: env.meta, verbose: true });
    expect(du.images).toEqual({ total: 3, active: 2, size: 5000, reclaimable: 700 });
    expect(formatReclaimable(du.images.reclaimable, du.images.size)).toBe("700B (14%)");
    expect(du.rows?.map((r) => [r.repository, r.sharedSize, r.uniqueSize])).toEqual(
      expect.arrayContaining([
        ["a", 4000, 100],
        ["<none>", 4000, 700],
      ]),
    );
  });
});

describe("gcBlobs", () => {
  it("deletes only blobs no image references, and reports the bytes freed", async () => {
    const image = await addImage(env, { tags: ["a:1"], layers: [["keep", 10]] });
    const orphan = await env.blobs.put(Buffer.from("orphan-bytes"));
    const out = await gcBlobs({ meta: env.meta, blobs: env.blobs, candidates: [orphan, image.id, Digest.of("blob-keep"), orphan] });
    expect(out.deleted.map(String)).toEqual([orphan.toString()]);
    expect(out.bytesFreed).toBe("orphan-bytes".length);
    expect(await env.blobs.has(orphan)).toBe(false);
    expect(await env.blobs.has(image.id)).toBe(true);
  });
});
