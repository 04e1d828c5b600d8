/**
 * Another Berth replica as its own process, for tests of what replicas share through PostgreSQL.
 * Env: DATABASE_URL, BERTH_DATA_DIR, BERTH_BLOB_DIR; it polls for jobs only once a minute, so
 * anything it does sooner it was told to. Prints `{ "url": … }` when ready; stops on SIGTERM.
 */
import type { AddressInfo } from "node:net";
import { bootServer } from "../src/boot";
import { createApiServer } from "../src/http/node";

const booted = await bootServer({
  dataDir: process.env.BERTH_DATA_DIR!,
  blobDir: process.env.BERTH_BLOB_DIR!,
  databaseUrl: process.env.DATABASE_URL!,
  jobPollMs: 60_000,
  log: () => {},
});
const server = createApiServer(booted.services);
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid }));
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void booted.stop().finally(() => process.exit(0));
});
