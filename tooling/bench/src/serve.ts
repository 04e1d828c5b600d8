/**
 * The API server as its own process, so the benchmark can watch its memory.
 * Prints one JSON line `{ url, databaseUrl, pid }` when ready.
 */
import type { AddressInfo } from "node:net";
import { bootServer, createApiServer } from "@berth/api";

const [dataDir, blobDir, password] = process.argv.slice(2);
if (!dataDir || !blobDir || !password) throw new Error("usage: serve.ts DATA_DIR BLOB_DIR ADMIN_PASSWORD");
// eslint-disable-next-line no-restricted-properties -- a bench knob, like the server's env.ts
const databaseUrl = process.env.DATABASE_URL || undefined;
const booted = await bootServer({ dataDir, blobDir, databaseUrl, adminPassword: password, log: () => {} });
const server = createApiServer(booted.services);
server.requestTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, databaseUrl: booted.databaseUrl, pid: process.pid }));
});
const stop = async () => {
  server.close();
  server.closeAllConnections();
  try {
    await booted.stop();
  } finally {
    process.exit(0);
  }
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
