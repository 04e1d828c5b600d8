/**
 * `berth registry …` against a real server and real CNCF registries: an admin sets a mirror,
 * a pull goes through it, the mirror's health shows in `registry ls`; team credentials for an
 * htpasswd registry; daemon.json; a member is refused changes.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTestServer, type TestServer } from "@berth/api/testing";
import { hashPassword } from "../../api/src/auth/secrets";
import { htpasswdLine, startRegistry, startUpstream, type ExtraRegistry, type Upstream } from "../../engine/test/registry-helpers";
import { berthAgainst, tempDir } from "./helpers";

let server: TestServer;
let upstream: Upstream;
let mirror: ExtraRegistry;
let basic: ExtraRegistry;
let dir: string;

const berth = (argv: string[], stdin = "") => berthAgainst(server, dir, argv, stdin);
const user = "puller";
const password = "cli-Registry-pw-1";

beforeAll(async () => {
  [server, upstream] = await Promise.all([bootTestServer(), startUpstream()]);
  const htpasswd = join(await mkdtemp(join(tmpdir(), "berth-htpasswd-")), "htpasswd");
  await writeFile(htpasswd, htpasswdLine(user, password));
  [mirror, basic] = await Promise.all([
    startRegistry(upstream.storage, ""),
    startRegistry(upstream.storage, ["  htpasswd:", "    realm: berth-test", `    path: ${htpasswd}`].join("\n")),
  ]);
  dir = await tempDir();
  const login = await berth(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`);
  expect(login.stdout).toBe("Login Succeeded\n");
}, 180_000);

afterAll(async () => {
  await mirror?.stop();
  await basic?.stop();
  await server?.close();
  upstream?.stop();
});

describe("berth registry", () => {
  it("ls shows docker.io from the start", async () => {
    const r = await berth(["registry", "ls"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const [header, first] = r.stdout.split("\n");
    expect(header).toMatch(/^REGISTRY\s+INSECURE\s+MIRRORS ONLY\s+CA\s+LOGIN\s+MIRRORS\s+HEALTH\s+LATENCY\s+SERVED$/);
    expect(first).toMatch(/^docker\.io\s+no\s+no\s+-\s+-\s+-/);
  });

  it("set --mirror, then a pull goes through the mirror and ls shows what it served", async () => {
    const url = `http://${mirror.host}`;
    const set = await berth(["registry", "set", upstream.host, "--mirror", url]);
    expect(set).toMatchObject({ code: 0, stderr: "", stdout: `${upstream.host}\n  mirror 1: ${url}\n` });

    const pull = await berth(["pull", `${upstream.host}/fixtures/app:1.0`]);
    expect(pull.stderr).toBe("");
    expect(pull.code).toBe(0);
    const audit = await berth(["audit", "--format", "json", "--filter", "action=image.pull", "--limit", "1"]);
    expect((JSON.parse(audit.stdout) as { details: { endpoint: string } }).details.endpoint).toBe(url);

    let ls = await berth(["registry", "ls", "--format", "json"]);
    for (let i = 0; i < 50 && !/"bytesServed": [1-9]/.test(ls.stdout); i++) {
      await new Promise((r) => setTimeout(r, 100));
      ls = await berth(["registry", "ls", "--format", "json"]);
    }
    const rows = JSON.parse(ls.stdout) as { domain: string; mirrors: { url: string; healthy: boolean; bytesServed: number }[] }[];
    const mine = rows.find((r) => r.domain === upstream.host);
    expect(mine?.mirrors).toMatchObject([{ url, healthy: true }]);
    expect(mine?.mirrors[0]?.bytesServed).toBeGreaterThan(0);
    const table = await berth(["registry", "ls"]);
    expect(table.stdout).toMatch(new RegExp(`${upstream.host}\\s+no\\s+no\\s+-\\s+-\\s+${url}\\s+healthy\\s+\\d+ms\\s+\\d`));

    // --insecure alone keeps the mirrors.
    const insecure = await berth(["registry", "set", upstream.host, "--insecure"]);
    expect(insecure.stdout).toBe(`${upstream.host}\n  mirror 1: ${url}\n  insecure: yes\n`);
  });

  it("set --mirrors-only: pulls use the mirrors alone and say so when they fail; --no-mirrors-only falls back again", async () => {
    const url = `http://${mirror.host}`;
    const down = "http://127.0.0.1:9";
    const none = await berth(["registry", "set", upstream.host, "--clear-mirrors", "--mirrors-only"]);
    expect(none).toMatchObject({
      code: 1,
      stderr: `Error response from daemon: ${upstream.host} is set to use its mirrors only, so it needs at least one mirror (or turn "mirrors only" off)\n`,
    });

    const set = await berth(["registry", "set", upstream.host, "--mirror", down, "--mirrors-only"]);
    expect(set).toMatchObject({
      code: 0,
      stderr: "",
      stdout: `${upstream.host}\n  mirror 1: ${down}\n  insecure: yes\n  mirrors only: yes (no fall-back to the registry itself)\n`,
    });
    const table = await berth(["registry", "ls"]);
    expect(table.stdout).toMatch(new RegExp(`${upstream.host}\\s+yes\\s+yes\\s+-\\s+-\\s+${down}\\s`));
    const json = JSON.parse((await berth(["registry", "ls", "--format", "json"])).stdout) as { domain: string; mirrorsOnly: boolean }[];
    expect(json.find((r) => r.domain === upstream.host)?.mirrorsOnly).toBe(true);

    const failed = await berth(["pull", `${upstream.host}/fixtures/base:1.0`]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      `no mirror of ${upstream.host} could serve it, and ${upstream.host} is set to use its mirrors only (no fall-back to the origin)`,
    );

    // --no-mirrors-only alone keeps the mirrors; the origin serves when they fail.
    const off = await berth(["registry", "set", upstream.host, "--no-mirrors-only"]);
    expect(off.stdout).toBe(`${upstream.host}\n  mirror 1: ${down}\n  insecure: yes\n`);
    const pulled = await berth(["pull", `${upstream.host}/fixtures/base:1.0`]);
    expect(pulled.stderr).toBe("");
    expect(pulled.code).toBe(0);
    expect((await berth(["registry", "set", upstream.host, "--mirror", url])).code).toBe(0);
  });

  it("test pings a mirror; a dead one exits 1 with the reason", async () => {
    const ok = await berth(["registry", "test", upstream.host, `http://${mirror.host}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^http://${mirror.host}: OK \\(\\d+ms\\)\\n$`));
    const unknown = await berth(["registry", "test", upstream.host, "http://127.0.0.1:9"]);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: `Error response from daemon: http://127.0.0.1:9 is not a mirror of ${upstream.host}\n`,
    });
  });

  it("refuses a mirror URL with a path, naming it", async () => {
    const r = await berth(["registry", "set", "docker.io", "--mirror", "https://mirror.example.com/v2/"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'Error response from daemon: mirrors: mirror "https://mirror.example.com/v2/": a path is not allowed (give https://mirror.example.com only)\n',
    );
    const missing = await berth(["registry", "set", "docker.io", "--ca-file", "nope.pem"]);
    expect(missing).toMatchObject({ code: 1, stderr: "Error: cannot read --ca-file nope.pem: ENOENT\n" });
  });

  it("login checks the password on the registry; the team's pulls then use it; logout forgets it", async () => {
    const denied = await berth(["pull", `${basic.host}/fixtures/base:1.0`]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/unauthorized: authentication required/);

    const bad = await berth(["registry", "login", basic.host, "-u", user, "--password-stdin"], "wrong\n");
    expect(bad).toMatchObject({
      code: 1,
      stderr: `Error response from daemon: ${basic.host} refused the username or password (401 Unauthorized); nothing was stored\n`,
    });
    const tty = await berth(["registry", "login", basic.host]);
    expect(tty).toMatchObject({ code: 1, stderr: "Error: Cannot perform an interactive login from a non TTY device\n" });

    const good = await berth(["registry", "login", basic.host, "-u", user, "--password-stdin"], `${password}\n`);
    expect(good).toMatchObject({ code: 0, stdout: "Login Succeeded\n", stderr: "" });
    const ls = await berth(["registry", "ls", "--format", "json"]);
    expect(ls.stdout).not.toContain(password);
    expect(ls.stdout).toContain('"credentialsSetBy": "admin"');

    const pulled = await berth(["pull", `${basic.host}/fixtures/base:1.0`]);
    expect(pulled.stderr).toBe("");
    expect(pulled.code).toBe(0);

    expect((await berth(["registry", "logout", basic.host])).stdout).toBe(`Removing login credentials for ${basic.host}\n`);
    expect((await berth(["registry", "logout", basic.host])).stdout).toBe(`Not logged in to ${basic.host}\n`);
  });

  it("daemon-json prints Docker Hub's mirrors and the insecure registries", async () => {
    // Mirrors only (tests never reach Docker Hub): nothing daemon.json can say changes.
    expect((await berth(["registry", "set", "docker.io", "--mirror", "https://mirror.gcr.io", "--mirrors-only"])).code).toBe(0);
    const r = await berth(["registry", "daemon-json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ "registry-mirrors": ["https://mirror.gcr.io"], "insecure-registries": [upstream.host] });
    expect(r.stderr).toMatch(/cannot be expressed in daemon\.json/);
    const toml = await berth(["registry", "daemon-json", "--containerd"]);
    expect(toml.stdout).toContain(`# /etc/containerd/certs.d/${upstream.host}/hosts.toml\n`);
    expect(toml.stdout).toContain(`[host."http://${mirror.host}"]`);
  });

  it("a member may list but not change", async () => {
    await server.services.db.user.create({
      data: { username: "dev", passwordHash: await hashPassword("dev-password-1"), role: "developer" },
    });
    const devDir = await tempDir();
    const dev = (argv: string[], stdin = "") => berthAgainst(server, devDir, argv, stdin);
    expect((await dev(["login", server.url, "-u", "dev", "--password-stdin"], "dev-password-1\n")).code).toBe(0);
    expect((await dev(["registry", "ls"])).code).toBe(0);
    // --no-mirrors-only: docker.io is mirrors-only here, and input is checked before the role.
    const r = await dev(["registry", "set", "docker.io", "--clear-mirrors", "--no-mirrors-only"]);
    expect(r).toMatchObject({ code: 1, stderr: "Error response from daemon: only an admin can do this\n" });
  });
});
