/**
 * `berth import` and `berth commit` against a real server: a rootfs packed by the system tar
 * (xz and zstd too), a commit with a changes tarball and deletes, the result read back with
 * `berth inspect` and `berth history`, and bad input refused with nothing stored.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "@berth/api/testing";
import { berthAgainst, tempDir } from "./helpers";

let server: TestServer;
let dir: string;
const berth = (argv: string[], stdin = "") => berthAgainst(server, dir, argv, stdin);

beforeAll(async () => {
  server = await bootTestServer();
  dir = await tempDir();
  await berth(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`);
}, 120_000);
afterAll(async () => server?.close());

/** Packs files into `name` with the system tar; `compress` is tar's flag for it. */
async function pack(name: string, files: Record<string, string>, compress: string[] = []): Promise<string> {
  const root = join(dir, `${name}.d`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const file = join(dir, name);
  execFileSync("tar", [...compress, "-cf", file, "-C", root, "."]);
  return file;
}

describe("berth import and commit", () => {
  it("imports xz and zstd rootfs tarballs, with -c and -m", async () => {
    const xz = await pack("rootfs.tar.xz", { "bin/app": "#!/bin/sh\n", "etc/motd": "hello\n" }, ["--xz"]);
    const r = await berth(["import", "-c", "ENV PATH=/bin", "-c", 'CMD ["/bin/app"]', "-m", "imported in a test", xz, "team/root:xz"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);

    const inspect = await berth([
      "inspect",
      "-f",
      "{{.Id}} {{json .Config.Cmd}} {{len .RootFS.Layers}} {{.Os}}/{{.Architecture}}",
      "team/root:xz",
    ]);
    expect(inspect.stdout).toBe(`${r.stdout.trim()} ["/bin/app"] 1 linux/amd64\n`);
    const history = await berth(["history", "--format", "{{.Comment}}", "team/root:xz"]);
    expect(history.stdout).toBe("imported in a test\n");

    const zstd = await pack("rootfs.tar.zst", { "bin/app": "#!/bin/sh\n" }, ["--zstd"]);
    const z = await berth(["import", "--platform", "linux/arm64", zstd, "team/root:zstd"]);
    expect(z.code).toBe(0);
    const platform = await berth(["inspect", "-f", "{{.Architecture}}", "team/root:zstd"]);
    expect(platform.stdout).toBe("arm64\n");
  });

  it("commits a changes tarball and deletes on top, with -a and -m", async () => {
    const changes = await pack("changes.tar.gz", { "etc/motd": "changed\n", "srv/new": "new\n" }, ["-z"]);
    const r = await berth([
      "commit",
      "-a",
      "Ada",
      "-m",
      "tweaks",
      "-c",
      "EXPOSE 8080",
      "-f",
      changes,
      "-d",
      "/bin/app",
      "team/root:xz",
      "team/root:edited",
    ]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const inspect = await berth(["inspect", "-f", "{{.Author}} {{len .RootFS.Layers}} {{json .Config.ExposedPorts}}", "team/root:edited"]);
    expect(inspect.stdout).toBe('Ada 2 {"8080/tcp":{}}\n');
    const history = await berth(["history", "--format", "{{.CreatedBy}}|{{.Comment}}", "team/root:edited"]);
    expect(history.stdout.split("\n")[0]).toBe("|tweaks");
  });

  it("refuses bad input with the server's message", async () => {
    const junk = join(dir, "junk.tar");
    await writeFile(junk, "definitely not a tarball");
    const r = await berth(["import", junk, "team/junk:1"]);
    expect(r).toMatchObject({
      code: 1,
      stderr: "Error response from daemon: the rootfs tarball is not a tar archive (nor a gzip, xz or zstd-compressed one)\n",
    });
    const escape = await berth(["commit", "-d", "../../etc/passwd", "team/root:xz"]);
    expect(escape.stderr).toBe(
      'Error response from daemon: delete path "../../etc/passwd" contains "..": paths must stay inside the image\n',
    );
    const unknown = await berth(["commit", "nope:1"]);
    expect(unknown.stderr).toBe("Error response from daemon: No such image: nope:1\n");
    expect((await berth(["images", "-q", "team/junk"])).stdout).toBe("");
  });
});
