/**
 * `docker build` on the server: a context tar uploaded to `POST /api/images/build` (or a pasted
 * Dockerfile through `jobs.build`) becomes a build job whose classic-builder output is its
 * progress; the image is tagged with the `image.build` audit event; base images not in the store
 * are pulled through the registry settings as the same person; bad input fails with the line.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { startUpstream, type Upstream } from "../../engine/test/registry-helpers";
import { bootTestServer, type TestServer } from "../src/testing";
import { apiClient, finishedJob } from "./client";
import { hashPassword } from "../src/auth/secrets";

const fx = fixtures();

let upstream: Upstream;
let server: TestServer;
let token: string;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  [upstream, server] = await Promise.all([startUpstream(), bootTestServer()]);
  token = await server.token();
  api = apiClient(server.url, token);
}, 120_000);
afterAll(async () => {
  await server?.close();
  upstream?.stop();
});

async function contextTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(1_700_000_000_000) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function postBuild(body: Buffer, query: string, as = token) {
  const res = await fetch(`${server.url}/api/images/build?${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${as}`, "x-berth-client": "cli", "content-type": "application/x-tar" },
    body,
  });
  return { status: res.status, body: (await res.json()) as { id?: string; error?: string } };
}

const finished = (id: string) => finishedJob(api, id);

function storedBlobs(): string[] {
  const dir = path.join(server.blobDir, "blobs/sha256");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

const APP = `FROM scratch
ENV GREETING=hello
WORKDIR /app
COPY hello.txt .
CMD ["/app/hello"]
`;

describe("build on the server", () => {
  it("builds an uploaded context, streams docker's output and tags the image, audited", async () => {
    const before = storedBlobs();
    const posted = await postBuild(
      await contextTar({ Dockerfile: APP, "hello.txt": "hi\n" }),
      "t=team/app:1.0&buildarg=SOURCE_DATE_EPOCH=1700000000",
    );
    expect(posted.status).toBe(200);
    const job = await finished(posted.body.id!);
    expect(job.error).toBeNull();
    expect(job.kind).toBe("build");
    expect(job.ref).toBe("team/app:1.0");
    const lines = job.progress.lines;
    expect(lines[0]).toBe("Step 1/5 : FROM scratch");
    expect(lines).toContain("Step 4/5 : COPY hello.txt .");
    const built = lines.find((l) => l.startsWith("Successfully built "));
    expect(built).toMatch(/^Successfully built [0-9a-f]{12}$/);
    expect(lines.at(-1)).toBe("Successfully tagged team/app:1.0");

    const result = job.result as { id: string; tags: string[] };
    expect(result.id.slice(7, 19)).toBe(built!.slice(-12));
    const rows = await api.images.list.query({ all: false, filters: {} });
    expect(rows.find((r) => r.repository === "team/app" && r.tag === "1.0")?.id.toString()).toBe(result.id);
    const inspect = await api.images.inspect.query({ refs: ["team/app:1.0"] });
    const config = (inspect.images[0] as { Config: { Env: string[]; WorkingDir: string; Cmd: string[] } }).Config;
    expect(config).toMatchObject({ WorkingDir: "/app", Cmd: ["/app/hello"] });
    expect(config.Env).toContain("GREETING=hello");

    const { events } = await api.audit.list.query({ action: "image.build", limit: 5 });
    expect(events[0]).toMatchObject({ actorName: "admin", interface: "cli", result: "ok" });
    expect(events[0]!.targets).toEqual([{ ref: "team/app:1.0", digestBefore: null, digestAfter: result.id }]);
    expect(events[0]!.details).toMatchObject({ imageId: result.id, steps: 5 });

    // The uploaded context is gone once the build ended; the image's blobs stay.
    const contextDigest = (await server.services.db.job.findUniqueOrThrow({ where: { id: posted.body.id! } })).input as {
      contextDigest: string;
    };
    expect(storedBlobs()).not.toContain(contextDigest.contextDigest.slice(7));
    expect(storedBlobs().length).toBeGreaterThan(before.length);
  });

  it("takes every step from the cache when the same context is built again, and the same ID", async () => {
    const posted = await postBuild(
      await contextTar({ Dockerfile: APP, "hello.txt": "hi\n" }),
      "t=team/app:1.1&buildarg=SOURCE_DATE_EPOCH=1700000000",
    );
    const job = await finished(posted.body.id!);
    expect(job.state).toBe("succeeded");
    expect(job.progress.lines.filter((l) => l === " ---> Using cache")).toHaveLength(4);
    const first = await api.images.inspect.query({ refs: ["team/app:1.0", "team/app:1.1"] });
    const ids = first.images.map((i) => (i as { Id: string }).Id);
    expect(ids[0]).toBe(ids[1]);
  });

  it("pulls a base image the store lacks through the registry settings, as the builder", async () => {
    const base = `${upstream.host}/fixtures/app:1.0`;
    const dockerfile = `FROM ${base}\nLABEL team=a\n`;
    const job = await finished((await postBuild(await contextTar({ Dockerfile: dockerfile }), "t=team/on-app:1")).body.id!);
    expect(job.error).toBeNull();
    expect(job.progress.lines).toContain(`Status: Downloaded newer image for ${base}`);
    const { events } = await api.audit.list.query({ action: "image.pull", limit: 5 });
    expect(events[0]).toMatchObject({ actorName: "admin", result: "ok" });
    expect(events[0]!.details).toMatchObject({ forBuild: true });
    const inspect = await api.images.inspect.query({ refs: ["team/on-app:1"] });
    const image = inspect.images[0] as { Parent: string; RootFS: { Layers: string[] } };
    expect(image.RootFS.Layers).toHaveLength(fx.image("fixtures/app:1.0").layers.length);
  });

  it("builds a pasted Dockerfile (jobs.build)", async () => {
    const { id } = await api.jobs.build.mutate({ dockerfile: "FROM scratch\nLABEL pasted=yes\n", tags: ["team/pasted:1"] });
    const job = await finished(id);
    expect(job.state).toBe("succeeded");
    expect(job.progress.lines.at(-1)).toBe("Successfully tagged team/pasted:1");
  });

  it("stops at RUN naming the line: the job fails, nothing is tagged, the failure is audited", async () => {
    const dockerfile = "FROM scratch\nENV A=1\nRUN echo hi\n";
    const job = await finished((await postBuild(await contextTar({ Dockerfile: dockerfile }), "t=team/run:1")).body.id!);
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(/^Dockerfile:3: RUN needs a container runtime/);
    const rows = await api.images.list.query({ all: false, filters: {} });
    expect(rows.some((r) => r.repository === "team/run")).toBe(false);
    const { events } = await api.audit.list.query({ action: "image.build", limit: 5 });
    expect(events[0]).toMatchObject({ result: "failed", targets: [{ ref: "team/run:1" }] });
    expect(events[0]!.error).toMatch(/Dockerfile:3/);
  });

  it("refuses bad options before storing the context", async () => {
    const before = storedBlobs();
    const ctx = await contextTar({ Dockerfile: APP });
    const badTag = await postBuild(ctx, "t=Team/App");
    expect(badTag.status).toBe(400);
    expect(badTag.body.error).toMatch(/invalid tag "Team\/App"/);
    const badArg = await postBuild(ctx, "t=team/x:1&buildarg=NOVALUE");
    expect(badArg.status).toBe(400);
    expect(badArg.body.error).toMatch(/--build-arg "NOVALUE": expected KEY=VALUE/);
    const outside = await postBuild(ctx, "t=team/x:1&f=../Dockerfile");
    expect(outside.status).toBe(400);
    expect(storedBlobs()).toEqual(before);
  });

  it("prune drops the build cache entries of the images it removed", async () => {
    const orphans = () =>
      server.services.db.$queryRaw<
        { n: bigint }[]
      >`SELECT count(*) AS n FROM build_cache c WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = c.image_id)`;
    expect(await server.services.db.buildCacheEntry.count()).toBeGreaterThan(0);
    await api.images.remove.mutate({ refs: ["team/app:1.0", "team/app:1.1", "team/pasted:1"], force: true });
    await api.images.prune.mutate({ all: true, filters: {}, dryRun: false });
    expect((await orphans())[0]!.n).toBe(0n);
    // The steps of images still in the store keep theirs.
    expect(await server.services.db.buildCacheEntry.count()).toBeGreaterThan(0);
  });

  it("refuses a viewer, audited as denied", async () => {
    await server.services.db.user.create({
      data: { username: "viewer", passwordHash: await hashPassword("viewer-password-1"), role: "viewer" },
    });
    const viewerToken = await server.token("viewer", "viewer-password-1");
    const refused = await postBuild(await contextTar({ Dockerfile: APP }), "t=team/app:2", viewerToken);
    expect(refused.status).toBe(403);
    const { events } = await api.audit.list.query({ action: "image.build", limit: 5 });
    expect(events[0]).toMatchObject({ result: "denied", actorName: "viewer" });
  });
});
