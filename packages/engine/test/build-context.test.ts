import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import { describe, expect, it } from "vitest";

import { openDirectoryContext } from "../src/build/context/directory-context";
import { parseDockerignore } from "../src/build/context/dockerignore";
import { ContextPathError, ContextTooLargeError } from "../src/build/context/errors";
import { matchSources } from "../src/build/context/sources";
import { openTarContext } from "../src/build/context/tar-context";
import type { BuildContext } from "../src/build/context/types";
import { writeTree } from "./build-executor-helpers";
import { packTar, streamOf, tempDir } from "./helpers";

async function paths(context: BuildContext): Promise<string[]> {
  const list: string[] = [];
  for await (const entry of context.walk()) list.push(entry.type === "directory" ? `${entry.path}/` : entry.path);
  return list;
}

async function text(context: BuildContext, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await context.open(path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

describe(".dockerignore", () => {
  it("matches like docker: cleaned patterns, parents, ** and ! exceptions, case-sensitive", () => {
    const m = parseDockerignore("# comment\n/node_modules\n*.log\n!keep.log\n**/*.tmp\nbuild/\ndocs/**/*.md\n!docs/README.md\n");
    expect(m.ignores("node_modules")).toBe(true);
    expect(m.ignores("node_modules/x/index.js")).toBe(true);
    expect(m.ignores("error.log")).toBe(true);
    expect(m.ignores("keep.log")).toBe(false);
    expect(m.ignores("sub/error.log")).toBe(false);
    expect(m.ignores("a/b/c.tmp")).toBe(true);
    expect(m.ignores("build/out.js")).toBe(true);
    expect(m.ignores("docs/a/b.md")).toBe(true);
    expect(m.ignores("docs/README.md")).toBe(false);
    expect(m.ignores("Error.LOG")).toBe(false);
    expect(m.hasExceptions).toBe(true);
  });
});

describe("openDirectoryContext", () => {
  it("leaves out what .dockerignore excludes, re-includes exceptions, keeps symlinks as links", async () => {
    const dir = await tempDir();
    await writeTree(dir, {
      Dockerfile: "FROM scratch\n",
      ".dockerignore": "Dockerfile\nnode_modules\nlogs\n!logs/keep.txt\n*.secret\n",
      "app/main.js": "main",
      "app/link": { symlink: "main.js" },
      "node_modules/dep/index.js": "x",
      "logs/a.txt": "a",
      "logs/keep.txt": "keep",
      "db.secret": "s",
    });
    const context = await openDirectoryContext(dir);
    expect(await paths(context)).toEqual([".dockerignore", "app/", "app/link", "app/main.js", "logs/", "logs/keep.txt"]);
    // The Dockerfile is read even when ignored, as docker sends it anyway.
    expect((await context.readRaw("Dockerfile", 1024))?.toString()).toBe("FROM scratch\n");
    expect(await context.lstat("db.secret")).toBeUndefined();
    expect((await context.lstat("app/link"))?.type).toBe("symlink");
    expect((await context.resolve("app/link")).path).toBe("app/main.js");
    // Files the build can see: .dockerignore, app/main.js ("main") and logs/keep.txt ("keep").
    expect(context.size).toBe((await readFile(join(dir, ".dockerignore"))).length + 4 + 4);
    await context.close();
  });

  it("prefers <Dockerfile>.dockerignore", async () => {
    const dir = await tempDir();
    await writeTree(dir, { ".dockerignore": "a\n", "app.Dockerfile.dockerignore": "b\n", a: "a", b: "b" });
    const context = await openDirectoryContext(dir, { dockerfilePath: "app.Dockerfile" });
    expect(await context.lstat("a")).toBeDefined();
    expect(await context.lstat("b")).toBeUndefined();
  });

  it("resolves symlinks inside the context and refuses any path that leaves it", async () => {
    const dir = await tempDir();
    await writeTree(dir, {
      "data/file.txt": "data",
      alias: { symlink: "data" },
      up: { symlink: "../outside" },
      abs: { symlink: "/etc/passwd" },
      loop: { symlink: "loop" },
      "deep/link": { symlink: "../data/file.txt" },
    });
    const context = await openDirectoryContext(dir);
    expect((await context.resolve("alias/file.txt")).path).toBe("data/file.txt");
    expect((await context.resolve("deep/link")).path).toBe("data/file.txt");
    expect((await context.resolve("/deep/../data/./file.txt")).path).toBe("data/file.txt");
    await expect(context.resolve("../x")).rejects.toThrow("forbidden path outside the build context: ../x");
    await expect(context.resolve("up")).rejects.toThrow("up: symlink up -> ../outside points outside the build context");
    await expect(context.resolve("abs")).rejects.toThrow("abs: symlink abs -> /etc/passwd points outside the build context");
    await expect(context.resolve("loop")).rejects.toThrow("too many levels of symbolic links");
    await expect(context.resolve("data/file.txt/x")).rejects.toThrow("is not a directory");
    await expect(context.resolve("nothere")).rejects.toBeInstanceOf(ContextPathError);
    await expect(context.readRaw("../../etc/passwd", 1024)).rejects.toThrow("outside the build context");
  });

  it("refuses a context larger than the limit", async () => {
    const dir = await tempDir();
    await writeTree(dir, { a: "x".repeat(3000), b: "y".repeat(3000), ".dockerignore": "c\n", c: "z".repeat(10_000) });
    await expect(openDirectoryContext(dir, { maxBytes: 5000 })).rejects.toBeInstanceOf(ContextTooLargeError);
    // Ignored files do not count.
    await expect(openDirectoryContext(dir, { maxBytes: 7000 })).resolves.toBeDefined();
  });
});

describe("openTarContext", () => {
  it("spools a plain or gzip tar, applies .dockerignore, and cleans up on close", async () => {
    const tar = await packTar([
      { name: "./", type: "directory" },
      { name: "./.dockerignore", data: Buffer.from("*.md\n") },
      { name: "./src/a.txt", data: Buffer.from("a") },
      { name: "./src/link", type: "symlink", linkname: "a.txt" },
      { name: "./src/hard", type: "link", linkname: "src/a.txt" },
      { name: "./README.md", data: Buffer.from("docs") },
    ]);
    for (const data of [tar, gzipSync(tar)]) {
      const tmp = await tempDir();
      const context = await openTarContext(streamOf(data), { tmpDir: tmp });
      expect(await paths(context)).toEqual([".dockerignore", "src/", "src/a.txt", "src/hard", "src/link"]);
      expect(await text(context, "src/hard")).toBe("a");
      expect((await context.resolve("src/link")).path).toBe("src/a.txt");
      await context.close();
      expect(await readdirSafe(tmp)).toEqual([]);
    }
  });

  it("refuses members that would land outside the context, and oversized contexts", async () => {
    const evil = await packTar([{ name: "../evil", data: Buffer.from("x") }]);
    await expect(openTarContext(streamOf(evil))).rejects.toThrow('invalid build context: member "../evil" contains ".."');
    const dangling = await packTar([{ name: "h", type: "link", linkname: "nothere" }]);
    await expect(openTarContext(streamOf(dangling))).rejects.toThrow("hard link h points to nothere");
    const big = await packTar([
      { name: "a", data: Buffer.alloc(3000) },
      { name: "b", data: Buffer.alloc(3000) },
    ]);
    const tmp = await tempDir();
    await expect(openTarContext(streamOf(big), { maxBytes: 4000, tmpDir: tmp })).rejects.toThrow(/^build context is larger than/);
    expect(await readdirSafe(tmp)).toEqual([]);
    await expect(openTarContext(streamOf(Buffer.from("not a tar at all".repeat(64))))).rejects.toThrow(/invalid archive/);
  });

  it("never follows a symlink member when writing later members", async () => {
    const outside = await tempDir();
    const tar = await packTar([
      { name: "escape", type: "symlink", linkname: outside },
      { name: "escape/pwned", data: Buffer.from("x") },
    ]);
    const context = await openTarContext(streamOf(tar));
    expect(await readdirSafe(outside)).toEqual([]);
    await expect(context.resolve("escape/pwned")).rejects.toThrow("points outside the build context");
    await context.close();
  });
});

describe("matchSources (COPY sources)", () => {
  it("matches with Go's filepath.Match and follows symlinked sources", async () => {
    const dir = await tempDir();
    await writeTree(dir, {
      "a.txt": "a",
      "b.txt": "b",
      "c.md": "c",
      "dir/x.c": "x",
      "dir/y.c": "y",
      "dir/z.h": "z",
      "link.txt": { symlink: "a.txt" },
      "[lit]": "literal",
    });
    const context = await openDirectoryContext(dir);
    const names = async (source: string) => (await matchSources(context, source)).map((m) => `${m.name}=${m.entry.path}`);
    expect(await names("*.txt")).toEqual(["a.txt=a.txt", "b.txt=b.txt", "link.txt=a.txt"]);
    expect(await names("?.md")).toEqual(["c.md=c.md"]);
    expect(await names("dir/[xy].c")).toEqual(["dir/x.c=dir/x.c", "dir/y.c=dir/y.c"].map((s) => s.replace(/^dir\//, "")));
    expect(await names("*")).toHaveLength(6);
    expect(await names("[[]lit]")).toEqual(["[lit]=[lit]"]);
    expect(await names("nomatch*")).toEqual([]);
    expect(await names(".")).toEqual(["="]);
    expect(await names("./dir/../a.txt")).toEqual(["a.txt=a.txt"]);
    await expect(names("[")).rejects.toThrow("syntax error in pattern");
  });
});

async function readdirSafe(dir: string): Promise<string[]> {
  const { readdir } = await import("node:fs/promises");
  return readdir(dir).catch(() => []);
}
