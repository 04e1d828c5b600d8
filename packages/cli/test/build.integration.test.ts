/**
 * `berth build` against a real server: a directory is sent with .dockerignore applied, the
 * classic builder's output streams back, `-q` prints the image ID, `-f` may name a Dockerfile
 * outside the context, `-` builds a Dockerfile from stdin, and a RUN stops the build naming its line.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "@berth/api/testing";
import { tempDir } from "./helpers";
import { adminAndDeveloper, type AdminAndDeveloper } from "./signed-in";

let server: TestServer;
let signedIn: AdminAndDeveloper;
let ctx: string;

const DOCKERFILE = 'FROM scratch\nCOPY src/ /srv/\nCMD ["/srv/app"]\n';

const dev = (argv: string[], stdin = "") => signedIn.dev(argv, stdin);

beforeAll(async () => {
  signedIn = await adminAndDeveloper();
  server = signedIn.server;
  ctx = await tempDir();
  await mkdir(join(ctx, "src"));
  await writeFile(join(ctx, "src/app.txt"), "app\n");
  await writeFile(join(ctx, "src/secret.env"), "TOKEN=1\n");
  await writeFile(join(ctx, ".dockerignore"), "**/*.env\n");
  await writeFile(join(ctx, "Dockerfile"), DOCKERFILE);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("berth build", () => {
  it("builds a directory with .dockerignore applied and prints docker's classic output", async () => {
    const out = await dev(["build", "-t", "team-a/app:1", ctx]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split("\n");
    // src/app.txt, .dockerignore and the Dockerfile; secret.env is left out.
    const sent = 4 + "**/*.env\n".length + DOCKERFILE.length;
    expect(lines[0]).toBe(`Sending build context to Berth  ${sent}B`);
    expect(lines.slice(1, 3)).toEqual(["Step 1/3 : FROM scratch", " ---> "]);
    expect(lines).toContain("Step 2/3 : COPY src/ /srv/");
    expect(lines.at(-2)).toMatch(/^Successfully built [0-9a-f]{12}$/);
    expect(lines.at(-1)).toBe("Successfully tagged team-a/app:1");

    const history = await dev(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "team-a/app:1"]);
    expect(history.stdout).toMatch(/COPY dir:[0-9a-f]{64} in \/srv\/ /);
    // The ignored file never left the machine: the layer's tar is /srv, one 4-byte file and the
    // end-of-archive blocks (512 + 512 + 512 + 1024 bytes); with secret.env it would be 1024 more.
    const inspect = await dev(["inspect", "-f", "{{len .RootFS.Layers}} {{.Size}}", "team-a/app:1"]);
    expect(inspect.stdout).toBe("1 2560\n");
  });

  it("-q prints only the image ID; a rebuild comes from the cache with the same ID", async () => {
    const first = await dev(["build", "-q", "-t", "team-a/app:2", ctx]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const id = await dev(["inspect", "-f", "{{.Id}}", "team-a/app:1"]);
    expect(first.stdout).toBe(id.stdout);
  });

  it("-f names a Dockerfile outside the context; - reads a Dockerfile from stdin", async () => {
    const elsewhere = await tempDir();
    await writeFile(join(elsewhere, "web.Dockerfile"), "FROM scratch\nCOPY src/app.txt /app.txt\nLABEL from=outside\n");
    const outside = await dev(["build", "-f", join(elsewhere, "web.Dockerfile"), "-t", "team-a/web:1", ctx]);
    expect(outside.stderr).toBe("");
    expect((await dev(["inspect", "-f", '{{index .Config.Labels "from"}}', "team-a/web:1"])).stdout).toBe("outside\n");

    const piped = await dev(["build", "-t", "team-a/piped:1", "-"], "FROM scratch\nENV PIPED=1\n");
    expect(piped.code).toBe(0);
    expect((await dev(["inspect", "-f", "{{.Config.Env}}", "team-a/piped:1"])).stdout).toBe("[PIPED=1]\n");
  });

  it("a RUN stops the build with the line named; nothing is tagged", async () => {
    const failing = await tempDir();
    await writeFile(join(failing, "Dockerfile"), "FROM scratch\nENV A=1\nRUN make\n");
    const out = await dev(["build", "-t", "team-a/run:1", failing]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^Error response from daemon: Dockerfile:3: RUN needs a container runtime/);
    expect((await dev(["images", "-q", "team-a/run"])).stdout).toBe("");
  });

  it("refuses a missing context directory before contacting the server", async () => {
    const out = await dev(["build", "-t", "team-a/x:1", join(ctx, "nope")]);
    expect(out).toMatchObject({ code: 1, stdout: "" });
    expect(out.stderr).toMatch(/unable to prepare context: path ".*nope" not found/);
  });
});
