import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import type { ImageRow } from "../src/api";
import { DaemonError } from "../src/errors";
import { fakeApi, runCli, tempDir } from "./helpers";

const ID1 = `sha256:${"a1".repeat(32)}`;
const ID2 = `sha256:${"b2".repeat(32)}`;
const row = (over: Partial<ImageRow>): ImageRow => ({
  repository: "fixtures/app",
  tag: "1.0",
  id: ID1,
  digest: null,
  created: new Date("2024-01-01T00:00:00Z"),
  size: 1_234_567,
  sharedSize: -1,
  uniqueSize: -1,
  labels: {},
  containers: -1,
  ...over,
});

describe("usage errors", () => {
  it("unknown flags exit 125 with docker's message", async () => {
    const r = await runCli(["images", "--bogus"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("unknown flag: --bogus");
    expect(r.stderr).toContain("Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]");
  });
  it("a malformed --filter exits 125", async () => {
    const r = await runCli(["images", "--filter", "dangling"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`invalid argument "dangling" for "-f, --filter" flag: bad format of filter (expected name=value)`);
  });
  it("wrong argument counts use docker's wording (exit 1 like docker)", async () => {
    const r = await runCli(["tag", "a"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("berth: 'berth tag' requires 2 arguments");
    expect((await runCli(["rmi"])).stderr).toContain("requires at least 1 argument");
    expect((await runCli(["images", "a", "b"])).stderr).toContain("requires at most 1 argument");
  });
  it("unknown commands", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("berth: 'frobnicate' is not a berth command.");
  });
  it("help goes to stdout with exit 0", async () => {
    const r = await runCli(["images", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: berth images [OPTIONS] [REPOSITORY[:TAG]]");
  });
});

describe("images", () => {
  const rows = [
    row({}),
    row({ tag: "2.0", id: ID2, digest: `sha256:${"cc".repeat(32)}`, size: 500 }),
    row({ repository: "<none>", tag: "<none>", id: ID2, created: null }),
  ];

  it("prints docker's table", async () => {
    const listImages = vi.fn().mockResolvedValue(rows);
    const r = await runCli(["images"], { api: fakeApi({ listImages }) });
    expect(r.code).toBe(0);
    expect(listImages).toHaveBeenCalledWith({ all: false, filters: {} });
    expect(r.stdout).toBe(
      [
        "REPOSITORY     TAG       IMAGE ID       CREATED      SIZE",
        "fixtures/app   1.0       a1a1a1a1a1a1   7 days ago   1.23MB",
        "fixtures/app   2.0       b2b2b2b2b2b2   7 days ago   500B",
        "<none>         <none>    b2b2b2b2b2b2   N/A          1.23MB",
        "",
      ].join("\n"),
    );
  });

  it("passes -a, filters and the reference; -q prints IDs; --digests and --no-trunc", async () => {
    const listImages = vi.fn().mockResolvedValue(rows);
    const api = fakeApi({ listImages });
    const q = await runCli(["images", "-a", "-q", "--filter", "dangling=false", "-f", "label=x", "fixtures/app"], { api });
    expect(listImages).toHaveBeenLastCalledWith({ all: true, filters: { dangling: ["false"], label: ["x"] }, reference: "fixtures/app" });
    expect(q.stdout).toBe("a1a1a1a1a1a1\nb2b2b2b2b2b2\nb2b2b2b2b2b2\n");
    const d = await runCli(["image", "ls", "--digests", "--no-trunc"], { api });
    expect(d.stdout.split("\n")[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(d.stdout).toContain(`sha256:${"cc".repeat(32)}   ${ID2}`);
    expect(d.stdout).toContain("<none>");
  });

  it("--format json prints one docker-style object per line", async () => {
    const r = await runCli(["images", "--format", "json"], { api: fakeApi({ listImages: vi.fn().mockResolvedValue([rows[0]]) }) });
    const obj = JSON.parse(r.stdout.trim()) as Record<string, string>;
    expect(Object.keys(obj)).toEqual([...Object.keys(obj)].sort());
    expect(obj).toMatchObject({
      ID: "a1a1a1a1a1a1",
      Repository: "fixtures/app",
      Tag: "1.0",
      Size: "1.23MB",
      Digest: "<none>",
      Containers: "N/A",
    });
  });

  it("server errors get docker's prefix and exit 1", async () => {
    const r = await runCli(["images"], { api: fakeApi({ listImages: () => Promise.reject(new DaemonError("sign in first")) }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error response from daemon: sign in first\n");
  });
});

describe("inspect", () => {
  it("prints found objects as a JSON array and errors for unknown names", async () => {
    const inspectImages = vi.fn().mockResolvedValue({ images: [{ Id: ID1, Config: { Cmd: ["a && b"] } }], missing: ["nope"] });
    const r = await runCli(["inspect", "fixtures/app:1.0", "nope"], { api: fakeApi({ inspectImages }) });
    expect(r.code).toBe(1);
    expect(r.stdout.startsWith("[\n    {\n")).toBe(true);
    expect(r.stdout).toContain("a \\u0026\\u0026 b");
    expect(r.stderr).toBe("Error: No such object: nope\n");
    const img = await runCli(["image", "inspect", "nope"], {
      api: fakeApi({ inspectImages: vi.fn().mockResolvedValue({ images: [], missing: ["nope"] }) }),
    });
    expect(img.stdout).toBe("[]\n");
    expect(img.stderr).toBe("Error: No such image: nope\n");
  });
});

describe("history", () => {
  const rows = [
    {
      id: ID1,
      created: new Date("2024-01-01T00:00:00Z"),
      createdBy: '/bin/sh -c #(nop)\tCMD ["serve"] and a very long tail of text',
      size: 0,
      comment: "",
      tags: [],
    },
    { id: "<missing>", created: new Date("2024-01-01T00:00:00Z"), createdBy: "ADD file", size: 1_000_000, comment: "c", tags: [] },
  ];
  it("prints docker's table, -q and -H=false", async () => {
    const api = fakeApi({ history: vi.fn().mockResolvedValue(rows) });
    const r = await runCli(["history", "fixtures/app:1.0"], { api });
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(lines[1]).toContain('a1a1a1a1a1a1   7 days ago   /bin/sh -c #(nop) CMD ["serve"] and a very l…   0B');
    expect(lines[2]).toContain("<missing>");
    expect((await runCli(["history", "-q", "x"], { api })).stdout).toBe("a1a1a1a1a1a1\n<missing>\n");
    const raw = await runCli(["history", "-H=false", "x"], { api });
    expect(raw.stdout).toContain("1000000");
    expect(raw.stdout).toMatch(/2024-01-01T00:00:00(Z|[+-]\d\d:\d\d)/);
  });
});

describe("tag and rmi", () => {
  it("tag is silent on success", async () => {
    const tag = vi.fn().mockResolvedValue(undefined);
    const r = await runCli(["tag", "a:1", "b:2"], { api: fakeApi({ tag }) });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""]);
    expect(tag).toHaveBeenCalledWith("a:1", "b:2");
  });
  it("rmi prints what went, then errors, exit 1", async () => {
    const remove = vi.fn().mockResolvedValue([
      { ref: "a:1", items: [{ untagged: "a:1" }, { deleted: ID1 }] },
      { ref: "nope", items: [], error: "No such image: nope:latest" },
    ]);
    const r = await runCli(["rmi", "-f", "a:1", "nope"], { api: fakeApi({ remove }) });
    expect(remove).toHaveBeenCalledWith(["a:1", "nope"], true);
    expect(r.stdout).toBe(`Untagged: a:1\nDeleted: ${ID1}\n`);
    expect(r.stderr).toBe("Error response from daemon: No such image: nope:latest\n");
    expect(r.code).toBe(1);
  });
});

describe("image prune", () => {
  const result = { deleted: [ID1], untagged: ["x:1"], skipped: [], spaceReclaimed: 1_200_000 };
  it("asks on stdin like docker; no answer cancels with exit 0", async () => {
    const prune = vi.fn().mockResolvedValue(result);
    const r = await runCli(["image", "prune"], { api: fakeApi({ prune }) });
    expect(r.stdout).toBe("WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ");
    expect(r.code).toBe(0);
    expect(prune).not.toHaveBeenCalled();
  });
  it("proceeds on 'y' and prints docker's report", async () => {
    const prune = vi.fn().mockResolvedValue(result);
    const r = await runCli(["image", "prune", "-a", "--filter", "until=24h"], { api: fakeApi({ prune }), stdin: "y\n" });
    expect(prune).toHaveBeenCalledWith({ all: true, filters: { until: ["24h"] }, dryRun: false });
    expect(r.stdout).toContain("without at least one container");
    expect(r.stdout).toContain(`Deleted Images:\nuntagged: x:1\ndeleted: ${ID1}\n\nTotal reclaimed space: 1.2MB\n`);
  });
  it("-f skips the prompt", async () => {
    const r = await runCli(["image", "prune", "-f"], {
      api: fakeApi({ prune: vi.fn().mockResolvedValue({ deleted: [], untagged: [], skipped: [], spaceReclaimed: 0 }) }),
    });
    expect(r.stdout).toBe("Total reclaimed space: 0B\n");
  });
});

describe("save and load", () => {
  it("refuses to write an archive to a terminal", async () => {
    const r = await runCli(["save", "a"], { stdoutIsTTY: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
  });
  it("streams to stdout when redirected", async () => {
    const save = vi.fn().mockResolvedValue(Readable.from([Buffer.from("TAR")]));
    const r = await runCli(["save", "a", "b"], { api: fakeApi({ save }) });
    expect(save).toHaveBeenCalledWith(["a", "b"]);
    expect(r.stdout).toBe("TAR");
  });
  it("-o writes the file (relative to the user's directory) via a .partial file", async () => {
    const dir = await tempDir();
    const save = vi.fn().mockResolvedValue(Readable.from([Buffer.from("TAR"), Buffer.from("BALL")]));
    const r = await runCli(["save", "-o", "out.tar", "a"], { api: fakeApi({ save }), cwd: dir });
    expect(r.code).toBe(0);
    expect(await readFile(join(dir, "out.tar"), "utf8")).toBe("TARBALL");
    expect(await readdir(dir)).not.toContain("out.tar.partial");
  });
  it("a save that fails mid-stream leaves nothing", async () => {
    const dir = await tempDir();
    const broken = new Readable({
      read() {
        this.push(Buffer.from("TAR"));
        this.destroy(new DaemonError("blob missing"));
      },
    });
    const r = await runCli(["save", "-o", "out.tar", "a"], { api: fakeApi({ save: vi.fn().mockResolvedValue(broken) }), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error response from daemon: blob missing\n");
    expect((await readdir(dir)).filter((f) => f.startsWith("out"))).toEqual([]);
  });
  it("load streams the file and prints the server's lines", async () => {
    const dir = await tempDir();
    await import("node:fs/promises").then((fs) => fs.writeFile(join(dir, "img.tar"), "ARCHIVE"));
    const load = vi.fn(async (body: Readable, source: string) => {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      return [`Loaded image: fixtures/app:1.0 (${Buffer.concat(chunks).toString()} from ${source})`];
    });
    const r = await runCli(["load", "-i", "img.tar"], { api: fakeApi({ load }), cwd: dir });
    expect(r.stdout).toBe("Loaded image: fixtures/app:1.0 (ARCHIVE from img.tar)\n");
    const fromStdin = await runCli(["image", "load", "-q"], { api: fakeApi({ load }), stdin: "PIPED" });
    expect(fromStdin.stdout).toBe("Loaded image: fixtures/app:1.0 (PIPED from stdin)\n");
    const tty = await runCli(["load"], { stdinIsTTY: true });
    expect(tty.stderr).toBe("Error: requested load from stdin, but stdin is empty\n");
    const missing = await runCli(["load", "-i", "nope.tar"], { cwd: dir });
    expect(missing.stderr).toBe("Error: open nope.tar: no such file or directory\n");
  });
});

describe("login and logout", () => {
  it("--password-stdin stores {url, token} with mode 0600 and prints Login Succeeded", async () => {
    const dir = await tempDir();
    const login = vi.fn().mockResolvedValue({ token: "brt_secret", tokenId: "t1" });
    const apiFor = vi.fn(() => fakeApi({ login }));
    const r = await runCli(["login", "localhost:3000", "-u", "admin", "--password-stdin"], { apiFor, stdin: "pw\n", cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Login Succeeded\n");
    expect(apiFor).toHaveBeenCalledWith("http://localhost:3000");
    expect(login).toHaveBeenCalledWith({ username: "admin", password: "pw", name: "berth-cli@testhost" });
    const path = join(dir, "config.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ url: "http://localhost:3000", token: "brt_secret" });

    const revokeToken = vi.fn().mockResolvedValue(undefined);
    const out = await runCli(["logout"], { apiFor: () => fakeApi({ revokeToken }), cwd: dir });
    expect(out.stdout).toBe("Removing login credentials for http://localhost:3000\n");
    expect(revokeToken).toHaveBeenCalledWith("t1");
    expect(await readdir(dir)).not.toContain("config.json");
    expect((await runCli(["logout"], { cwd: dir })).stdout).toBe("Not logged in to http://localhost:3000\n");
  });
  it("refuses interactive login without a TTY and bad flag combinations", async () => {
    expect((await runCli(["login", "-u", "a"])).stderr).toBe("Error: Cannot perform an interactive login from a non TTY device\n");
    expect((await runCli(["login", "--password-stdin"])).stderr).toBe("Error: Must provide --username with --password-stdin\n");
    const warn = await runCli(["login", "-u", "a", "-p", "b"], {
      apiFor: () => fakeApi({ login: () => Promise.reject(new DaemonError("incorrect username or password")) }),
    });
    expect(warn.stderr).toBe(
      "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\nError response from daemon: incorrect username or password\n",
    );
    expect(warn.code).toBe(1);
  });
});

describe("system df and audit", () => {
  it("prints the disk-usage summary", async () => {
    const diskUsage = vi.fn().mockResolvedValue({
      summary: [{ type: "Images", totalCount: 5, active: 2, size: 16_430_000, reclaimable: 11_630_000 }],
      images: [],
    });
    const r = await runCli(["system", "df"], { api: fakeApi({ diskUsage }) });
    expect(r.stdout).toBe("TYPE      TOTAL     ACTIVE    SIZE      RECLAIMABLE\nImages    5         2         16.43MB   11.63MB (70%)\n");
  });
  it("audit pages until --limit and prints json/csv/table", async () => {
    const event = (id: number) => ({
      id: String(id),
      at: new Date("2024-01-01T00:00:00Z"),
      actorName: "admin",
      action: "image.tag",
      result: "ok",
      error: null,
      interface: "cli",
      ip: null,
      userAgent: null,
      targets: [{ ref: "fixtures/app:1.0" }],
      details: {},
      hash: "h",
    });
    const audit = vi
      .fn()
      .mockResolvedValueOnce({ events: [event(3), event(2)], nextCursor: "2" })
      .mockResolvedValueOnce({ events: [event(1)], nextCursor: null });
    const r = await runCli(["audit", "--limit", "5", "--filter", "actor=admin", "--format", "json"], { api: fakeApi({ audit }) });
    expect(audit).toHaveBeenNthCalledWith(1, { person: "admin", limit: 5 });
    expect(audit).toHaveBeenNthCalledWith(2, { person: "admin", limit: 3, cursor: "2" });
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
    const csv = await runCli(["audit", "--format", "csv"], {
      api: fakeApi({ audit: vi.fn().mockResolvedValue({ events: [event(1)], nextCursor: null }) }),
    });
    expect(csv.stdout.split("\n")[0]).toBe("id,at,actorName,action,result,error,interface,ip,userAgent,targets,details,hash");
    expect(csv.stdout).toContain('"[{""ref"":""fixtures/app:1.0""');
    const table = await runCli(["audit"], { api: fakeApi({ audit: vi.fn().mockResolvedValue({ events: [event(1)], nextCursor: null }) }) });
    expect(table.stdout).toMatch(
      /^TIME\s+ACTOR\s+INTERFACE\s+ACTION\s+RESULT\s+TARGETS\n2024-01-01T00:00:00Z\s+admin\s+cli\s+image.tag\s+ok\s+fixtures\/app:1.0\n$/,
    );
    expect((await runCli(["audit", "--format", "xml"])).code).toBe(125);
  });
});
