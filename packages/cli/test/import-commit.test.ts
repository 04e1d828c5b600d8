import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { DaemonError } from "../src/errors";
import { fakeApi, runCli, tempDir } from "./helpers";

const ID = `sha256:${"c3".repeat(32)}`;

async function text(body: Readable | null): Promise<string | null> {
  if (!body) return null;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString();
}

describe("berth import", () => {
  it("streams the file with the options as query parameters and prints the image ID", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "rootfs.tgz"), "TARBALL");
    const seen: { body: string | null; query: string }[] = [];
    const importImage = vi.fn(async (body: Readable, query: URLSearchParams) => {
      seen.push({ body: await text(body), query: query.toString() });
      return { id: ID, tag: "team/base:1", previous: null, lines: [ID] };
    });
    const r = await runCli(
      ["import", "-c", "ENV A=1", "--change", 'CMD ["sh"]', "-m", "hello", "--platform", "linux/arm64", "rootfs.tgz", "team/base:1"],
      { api: fakeApi({ importImage }), cwd: dir },
    );
    expect(r).toMatchObject({ code: 0, stdout: `${ID}\n`, stderr: "" });
    expect(seen[0]!.body).toBe("TARBALL");
    expect(new URLSearchParams(seen[0]!.query).getAll("change")).toEqual(["ENV A=1", 'CMD ["sh"]']);
    expect(Object.fromEntries(new URLSearchParams(seen[0]!.query))).toMatchObject({
      source: "rootfs.tgz",
      ref: "team/base:1",
      message: "hello",
      platform: "linux/arm64",
    });

    const fromStdin = await runCli(["image", "import", "-"], { api: fakeApi({ importImage }), stdin: "PIPED" });
    expect(fromStdin.stdout).toBe(`${ID}\n`);
    expect(seen[1]).toEqual({ body: "PIPED", query: "source=-" });
  });

  it("reports a missing file, a URL and the server's refusal like docker", async () => {
    const dir = await tempDir();
    expect((await runCli(["import", "nope.tar"], { cwd: dir })).stderr).toBe("Error: open nope.tar: no such file or directory\n");
    expect((await runCli(["import", dir])).stderr).toBe(`Error: read ${dir}: is a directory\n`);
    expect((await runCli(["import", "https://example.com/rootfs.tar"])).stderr).toMatch(/^Error: importing from a URL is not supported/);
    const importImage = () =>
      Promise.reject(new DaemonError("the rootfs tarball is not a tar archive (nor a gzip, xz or zstd-compressed one)"));
    const refused = await runCli(["import", "-"], { api: fakeApi({ importImage }), stdin: "junk" });
    expect(refused).toMatchObject({
      code: 1,
      stderr: "Error response from daemon: the rootfs tarball is not a tar archive (nor a gzip, xz or zstd-compressed one)\n",
    });
    const usage = await runCli(["import"]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/^berth: 'berth import' requires at least 1 and at most 2 arguments/);
  });
});

describe("berth commit", () => {
  it("sends the base, the changes tarball, deletes (flags and a list) and the options", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "changes.tar"), "CHANGES");
    await writeFile(join(dir, "gone.txt"), "# paths to delete\n/var/cache/apt\n\n/tmp/x\n");
    const seen: { body: string | null; query: URLSearchParams }[] = [];
    const commitImage = vi.fn(async (body: Readable | null, query: URLSearchParams) => {
      seen.push({ body: await text(body), query });
      return { id: ID, tag: null, previous: null, lines: [ID] };
    });
    const r = await runCli(
      [
        "commit",
        "-a",
        "Ada <ada@example.com>",
        "-m",
        "tweak",
        "-c",
        "EXPOSE 80",
        "-f",
        "changes.tar",
        "-d",
        "/etc/motd",
        "--delete-from",
        "gone.txt",
        "app:1",
        "app:2",
      ],
      { api: fakeApi({ commitImage }), cwd: dir },
    );
    expect(r).toMatchObject({ code: 0, stdout: `${ID}\n`, stderr: "" });
    expect(seen[0]!.body).toBe("CHANGES");
    const q = seen[0]!.query;
    expect([q.get("base"), q.get("ref"), q.get("author"), q.get("message")]).toEqual(["app:1", "app:2", "Ada <ada@example.com>", "tweak"]);
    expect(q.getAll("change")).toEqual(["EXPOSE 80"]);
    expect(q.getAll("delete")).toEqual(["/etc/motd", "/var/cache/apt", "/tmp/x"]);

    const onlyDeletes = await runCli(["commit", "--delete-from", "-", "app:1"], { api: fakeApi({ commitImage }), stdin: "/a\n/b\n" });
    expect(onlyDeletes.code).toBe(0);
    expect(seen[1]!.body).toBeNull();
    expect(seen[1]!.query.getAll("delete")).toEqual(["/a", "/b"]);
  });

  it("refuses two readers of stdin and a missing list", async () => {
    const dir = await tempDir();
    const both = await runCli(["commit", "-f", "-", "--delete-from", "-", "app:1"]);
    expect(both.stderr).toBe("Error: only one of --file and --delete-from can read from stdin\n");
    const missing = await runCli(["commit", "--delete-from", "nope.txt", "app:1"], { cwd: dir });
    expect(missing.stderr).toBe("Error: open nope.txt: no such file or directory\n");
    const commitImage = () => Promise.reject(new DaemonError("No such image: nope:1"));
    const unknown = await runCli(["commit", "nope:1"], { api: fakeApi({ commitImage }) });
    expect(unknown.stderr).toBe("Error response from daemon: No such image: nope:1\n");
  });
});
