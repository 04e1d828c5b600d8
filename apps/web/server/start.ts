/**
 * Berth's server: boots the database and blob store, then serves the API (plain HTTP and
 * tRPC, handled directly so uploads and downloads stream without Next.js in the way) and the
 * Next.js dashboard from one port.
 */
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { bootServer, handleApiRequest, readServerEnv, sendFetchResponse, toFetchRequest } from "@berth/api";

const dev = process.argv.includes("--dev");
const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main() {
  const env = readServerEnv();
  const booted = await bootServer({
    dataDir: env.dataDir,
    blobDir: env.blobDir,
    databaseUrl: env.DATABASE_URL,
    adminPassword: env.BERTH_ADMIN_PASSWORD,
    secretKey: env.BERTH_SECRET_KEY,
    mirrorTtlSeconds: env.BERTH_MIRROR_TTL_SECONDS,
    layerCheckInlineBytes: env.BERTH_LAYER_CHECK_INLINE_BYTES,
  });
  const app = next({ dev, dir: appDir, hostname: env.HOSTNAME, port: env.PORT });
  const handleNext = app.getRequestHandler();
  await app.prepare();

  const server = http.createServer((req, res) => {
    // The API, and Berth as a registry (`/v2/…`, what `docker push` talks to).
    if (req.url?.startsWith("/api/") || req.url === "/v2" || req.url?.startsWith("/v2/")) {
      const request = toFetchRequest(req, `http://${req.headers.host ?? "localhost"}`);
      handleApiRequest(request, { services: booted.services, remoteAddress: req.socket.remoteAddress ?? null })
        .then((response) => (response ? sendFetchResponse(res, response) : handleNext(req, res)))
        .catch((err: unknown) => {
          console.error(err);
          if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "internal error" }));
        });
      return;
    }
    void handleNext(req, res);
  });
  // Archive uploads can take minutes; only idle sockets should time out.
  server.requestTimeout = 0;
  server.listen(env.PORT, env.HOSTNAME, () => {
    console.log(`berth: listening on http://${env.HOSTNAME}:${env.PORT} (data in ${env.dataDir})`);
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("berth: shutting down");
    server.close();
    server.closeAllConnections();
    await app.close().catch(() => undefined);
    await booted.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((err: unknown) => {
  console.error(`berth: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
