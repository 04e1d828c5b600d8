/**
 * `docker import` and `docker commit` without a daemon, over the HTTP upload endpoints and the
 * dashboard's tRPC procedure, against a real server and PostgreSQL: images recorded and tagged,
 * audited as image.import / image.commit, and nothing kept on bad input or a refusal.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/secrets";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient } from "./client";

let server: TestServer;
let token: string;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  server = await bootTestServer();
  token = await server.token();
  api = apiClient(server.url, token);
});
afterAll(async () => server?.close());

function storedBlobs(): string[] {
  const dir = path.join(server.blobDir, "blobs/sha256");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** A directory tree packed by the system tar (what a user imports), gzip-compressed. */
async function tarball(files: Record<string, string>): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), "berth-rootfs-"));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return execFileSync("tar", ["-czf", "-", "-C", dir, "."]);
}

type Edit = { status: number; body: { id?: string; tag?: string | null; previous?: string | null; lines?: string[]; error?: string } };

async function post(endpoint: "import" | "commit", query: [string, string][], body?: Buffer, as = token): Promise<Edit> {
  const params = new URLSearchParams(query);
  const res = await fetch(`${server.url}/api/images/${endpoint}?${params.toString()}`, {
    method: "POST",
    headers: { authorization: `Bearer ${as}`, "x-berth-client": "cli" },
    body,
  });
  return { status: res.status, body: (await res.json()) as Edit["body"] };
}

async function lastEvent(action: string) {
  const { events } = await api.audit.list.query({ action, limit: 1 });
  return events[0]!;
}

describe("import and commit over the API", () => {
  let baseId: string;

  it("imports a rootfs tarball as a one-layer image, tagged, with -c changes, audited", async () => {
    const rootfs = await tarball({ "etc/os-release": "ID=berth\n", "bin/app": "#!/bin/sh\necho app\n" });
    const res = await post(
      "import",
      [
        ["ref", "team/base:1"],
        ["change", "ENV A=1"],
        ["change", 'CMD ["/bin/app"]'],
        ["message", "from a tarball"],
        ["source", "rootfs.tgz"],
      ],
      rootfs,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tag: "team/base:1", previous: null });
    expect(res.body.lines).toEqual([res.body.id]);
    baseId = res.body.id!;

    const [image] = (await api.images.inspect.query({ refs: ["team/base:1"] })).images as {
      Id: string;
      RootFS: { Layers: string[] };
      Config: { Env: string[]; Cmd: string[] };
      Architecture: string;
    }[];
    expect(image).toMatchObject({ Id: baseId, Architecture: "amd64", Config: { Env: ["A=1"], Cmd: ["/bin/app"] } });
    expect(image!.RootFS.Layers).toHaveLength(1);
    const history = await api.images.history.query({ ref: "team/base:1", noTrunc: true });
    expect(JSON.stringify(history)).toContain("from a tarball");

    const event = await lastEvent("image.import");
    expect(event).toMatchObject({ result: "ok", actorName: "admin" });
    expect(event.targets.map((t) => [t.ref, t.digestAfter?.toString()])).toEqual([["team/base:1", baseId]]);
    expect(event.details).toMatchObject({ source: "rootfs.tgz", changes: ["ENV A=1", 'CMD ["/bin/app"]'], imageId: baseId });
  });

  it("refuses what is not a tarball, keeping nothing and auditing the failure", async () => {
    const before = storedBlobs();
    const res = await post("import", [["ref", "team/junk:1"]], Buffer.from("this is not a tarball at all"));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("the rootfs tarball is not a tar archive (nor a gzip, xz or zstd-compressed one)");
    const truncated = await tarball({ big: "x".repeat(200_000) });
    const cut = await post("import", [["ref", "team/junk:1"]], truncated.subarray(0, truncated.length - 100));
    expect(cut.status).toBe(400);
    expect(cut.body.error).toMatch(/gzip compression is corrupt or truncated/);
    const badChange = await post("import", [["change", "RUN rm -rf /"]], await tarball({ a: "b" }));
    expect(badChange.body.error).toBe("run is not a valid change command");
    expect(storedBlobs()).toEqual(before);
    expect(await lastEvent("image.import")).toMatchObject({ result: "failed", error: "run is not a valid change command" });
    expect(await api.images.inspect.query({ refs: ["team/junk:1"] })).toMatchObject({ images: [], missing: ["team/junk:1"] });
  });

  it("refuses a viewer before reading the upload, audited as denied", async () => {
    const password = "viewer-password-1";
    await server.services.db.user.create({ data: { username: "val", passwordHash: await hashPassword(password), role: "viewer" } });
    const viewer = await server.token("val", password);
    const before = storedBlobs();
    const res = await post("import", [["ref", "team/base:2"]], await tarball({ a: "b" }), viewer);
    expect(res.status).toBe(403);
    expect(storedBlobs()).toEqual(before);
    expect(await lastEvent("image.import")).toMatchObject({ result: "denied", actorName: "val" });
  });

  it("commits a changes tarball and deletes on top of an image: one more layer, parent, history, audit", async () => {
    const changes = await tarball({ "etc/app.conf": "port=80\n" });
    const res = await post(
      "commit",
      [
        ["base", "team/base:1"],
        ["ref", "team/base:edited"],
        ["delete", "/bin/app"],
        ["author", "Ada <ada@example.com>"],
        ["message", "configure"],
        ["change", "EXPOSE 80"],
      ],
      changes,
    );
    expect(res.status).toBe(200);
    expect(res.body.tag).toBe("team/base:edited");
    const [image] = (await api.images.inspect.query({ refs: ["team/base:edited"] })).images as {
      Id: string;
      Parent: string;
      Author: string;
      RootFS: { Layers: string[] };
      Config: { ExposedPorts: Record<string, object> };
    }[];
    expect(image).toMatchObject({
      Id: res.body.id,
      Parent: baseId,
      Author: "Ada <ada@example.com>",
      Config: { ExposedPorts: { "80/tcp": {} } },
    });
    expect(image!.RootFS.Layers).toHaveLength(2);

    const event = await lastEvent("image.commit");
    expect(event).toMatchObject({ result: "ok" });
    expect(event.details).toMatchObject({ base: "team/base:1", deletes: ["/bin/app"], author: "Ada <ada@example.com>", parentId: baseId });
  });

  it("commits deletes alone (no body), and refuses an unknown base or a path with '..'", async () => {
    const res = await post("commit", [
      ["base", "team/base:1"],
      ["delete", "etc/os-release"],
    ]);
    expect(res.status).toBe(200);
    expect(res.body.tag).toBeNull();

    const before = storedBlobs();
    const unknown = await post("commit", [["base", "nope:1"]], await tarball({ a: "b" }));
    expect(unknown).toMatchObject({ status: 404, body: { error: "No such image: nope:1" } });
    const escape = await post("commit", [
      ["base", "team/base:1"],
      ["delete", "/etc/../../root"],
    ]);
    expect(escape.status).toBe(400);
    expect(escape.body.error).toBe('delete path "/etc/../../root" contains "..": paths must stay inside the image');
    expect(storedBlobs()).toEqual(before);
    expect(await lastEvent("image.commit")).toMatchObject({ result: "failed" });
  });

  it("commits a few files from the dashboard's editor (images.commitFiles)", async () => {
    const result = await api.images.commitFiles.mutate({
      base: "team/base:1",
      reference: "team/base:web",
      files: [{ path: "/srv/index.html", content: Buffer.from("<h1>hi</h1>").toString("base64"), mode: 0o644 }],
      deletes: ["etc/os-release"],
      message: "edited in the dashboard",
    });
    expect(result.tag).toBe("team/base:web");
    const history = await api.images.history.query({ ref: "team/base:web", noTrunc: true });
    expect(JSON.stringify(history)).toContain("edited in the dashboard");
    expect((await lastEvent("image.commit")).details).toMatchObject({ files: ["/srv/index.html"], deletes: ["etc/os-release"] });

    // The editor reads what it is about to replace, through the layers.
    const page = await api.images.readFile.query({ ref: "team/base:web", path: "/srv/index.html" });
    expect(page).toMatchObject({ path: "/srv/index.html", type: "file", mode: 0o644, size: 11, tooLarge: false });
    expect(Buffer.from(page!.content!, "base64").toString()).toBe("<h1>hi</h1>");
    expect(await api.images.readFile.query({ ref: "team/base:web", path: "/etc/os-release" })).toBeNull();
    const before = await api.images.readFile.query({ ref: "team/base:1", path: "etc/os-release" });
    expect(Buffer.from(before!.content!, "base64").toString()).toBe("ID=berth\n");

    await expect(api.images.commitFiles.mutate({ base: "team/base:1", files: [{ path: "../x", content: "" }] })).rejects.toThrow(
      'file path "../x" contains ".."',
    );
  });
});
