import { execFileSync } from "node:child_process";
import { X509Certificate, createPrivateKey, randomBytes, sign as cryptoSign } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import http from "node:http";
import type net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { fixtures } from "@berth/fixtures";
import { freePort } from "@berth/fixtures/registry";

/**
 * A private CNCF distribution registry for the registry tests, filled by
 * tooling/fixtures/make-images.sh. Each call to startUpstream uses its own OUT directory
 * (the script keeps one pidfile per OUT) that links to the shared, already built layout,
 * so `push` does not rebuild. Extra registries (Basic auth, token auth) serve the same storage.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const script = join(repoRoot, "tooling/fixtures/make-images.sh");

export interface UpstreamImage {
  ref: string;
  repo: string;
  tag: string;
  upstreamDigest: string;
  upstreamOciDigest: string;
  layers?: { digest: string; size: number; diffID: string }[];
  configDigest?: string;
  upstreamManifests?: { digest: string; platform: { architecture: string; os: string } }[];
}

export interface Upstream {
  host: string;
  storage: string;
  images: UpstreamImage[];
  stop(): void;
}

/** Starts the script's upstream on a free port with a fresh storage dir and pushes every fixture. */
export async function startUpstream(): Promise<Upstream> {
  const shared = fixtures();
  const out = mkdtempSync(join(tmpdir(), "berth-registry-out-"));
  const storage = join(out, "storage");
  symlinkSync(shared.layout, join(out, "oci"));
  symlinkSync(join(shared.out, ".cache"), join(out, ".cache"));
  copyFileSync(join(shared.out, ".make-stamp"), join(out, ".make-stamp"));
  const port = await freePort();
  const env = { ...process.env, OUT: out, UPSTREAM_PORT: String(port), SKIP_INSTALL: "1" };
  const run = (...args: string[]) => execFileSync("bash", [script, ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
  try {
    run("start-upstream", storage);
    run("push");
  } catch (err) {
    run("stop-upstream");
    rmSync(out, { recursive: true, force: true });
    throw err;
  }
  const summary = JSON.parse(readFileSync(join(shared.out, "fixtures.json"), "utf8")) as {
    images: (UpstreamImage & { ref: string })[];
  };
  const images = summary.images
    .filter((i) => i.upstreamDigest)
    .map((i) => ({ ...i, repo: i.ref.split(":")[0]!, tag: i.ref.split(":")[1]! }));
  return {
    host: `127.0.0.1:${port}`,
    storage,
    images,
    stop() {
      run("stop-upstream");
      rmSync(out, { recursive: true, force: true });
    },
  };
}

export { freePort, startRegistry, type ExtraRegistry } from "@berth/fixtures/registry";

/** A bcrypt htpasswd line (the CNCF registry accepts only bcrypt), via libc crypt() from perl-base. */
export function htpasswdLine(user: string, password: string): string {
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let salt = "";
  for (let i = 0; i < 21; i++) salt += alphabet[Math.floor(Math.random() * 64)];
  salt += "."; // the 22nd character carries only 2 bits
  const hash = execFileSync("perl", ["-e", "print crypt($ARGV[0], $ARGV[1])", password, `$2y$05$${salt}`], {
    encoding: "utf8",
  });
  if (!hash.startsWith("$2")) throw new Error("libc crypt() has no bcrypt here");
  return `${user}:${hash}\n`;
}

export interface ProxyHooks {
  /** Answer the request yourself (return true), or let it through (return false/undefined). */
  intercept?(req: http.IncomingMessage, res: http.ServerResponse): boolean | undefined;
  /** Rewrite or cut the upstream response on its way back. */
  respond?(req: http.IncomingMessage, upstream: http.IncomingMessage, res: http.ServerResponse): boolean | undefined;
}

export interface Proxy {
  host: string;
  port: number;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** A loopback HTTP proxy in front of a registry, for faults the real registry never makes. */
export async function startProxy(target: string, hooks: ProxyHooks = {}, bind = "127.0.0.1"): Promise<Proxy> {
  const requests: Proxy["requests"] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    if (hooks.intercept?.(req, res)) return;
    const upstream = http.request(`http://${target}${req.url}`, { method: req.method, headers: { ...req.headers, host: target } }, (up) => {
      if (hooks.respond?.(req, up, res)) return;
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((ok) => server.listen(0, bind, ok));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: `${bind === "127.0.0.1" ? "127.0.0.1" : bind}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export interface TokenServer {
  /** `auth:` YAML for the registry. */
  authYaml: string;
  realm: string;
  /** Token requests seen (scope, whether Basic credentials came along). */
  requests: { scope: string | null; authorization: string | undefined }[];
  /** Scopes whose next token is issued without any access (to force a 401 and a refresh). */
  denyOnce: Set<string>;
  close(): Promise<void>;
}

/**
 * A loopback token server for distribution's `auth: token:`: an ES256 key and self-signed
 * certificate from openssl; JWTs carry the certificate in `x5c`, which the registry checks
 * against `rootcertbundle`. Accepts `user`/`password` given here, or anonymous pulls.
 */
export async function startTokenServer(user: string, password: string): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), "berth-token-"));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=berth-test-token",
    ],
    { stdio: "ignore" },
  );
  const privateKey = createPrivateKey(readFileSync(key));
  const der = new X509Certificate(readFileSync(cert)).raw.toString("base64");
  const requests: TokenServer["requests"] = [];
  const denyOnce = new Set<string>();
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "", "http://x");
    const scope = url.searchParams.get("scope");
    requests.push({ scope, authorization: req.headers.authorization });
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    if (req.headers.authorization && req.headers.authorization !== expected) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ details: "incorrect username or password" }));
      return;
    }
    const access = [];
    const m = scope ? /^repository:([^:]+):(.+)$/.exec(scope) : null;
    if (m && !(scope && denyOnce.delete(scope))) access.push({ type: "repository", name: m[1], actions: m[2]!.split(",") });
    if (scope === "registry:catalog:*" && req.headers.authorization) access.push({ type: "registry", name: "catalog", actions: ["*"] });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: "berth-test-issuer",
      sub: req.headers.authorization ? user : "",
      aud: url.searchParams.get("service"),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const signingInput = `${b64({ alg: "ES256", typ: "JWT", x5c: [der] })}.${b64(claims)}`;
    const signature = cryptoSign("sha256", Buffer.from(signingInput), {
      key: privateKey,
      dsaEncoding: "ieee-p1363",
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        token: `${signingInput}.${signature.toString("base64url")}`,
        expires_in: 300,
      }),
    );
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const realm = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/token`;
  return {
    realm,
    requests,
    denyOnce,
    authYaml: [
      "  token:",
      `    realm: ${realm}`,
      "    service: berth-test-registry",
      "    issuer: berth-test-issuer",
      `    rootcertbundle: ${cert}`,
    ].join("\n"),
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          ok();
        });
      }),
  };
}

/** A self-signed certificate for 127.0.0.1 (openssl), as PEM paths plus the certificate text. */
export function selfSignedCert(dir: string): { cert: string; key: string; pem: string } {
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return { cert, key, pem: readFileSync(cert, "utf8") };
}
