/**
 * A real Berth API server for tests: a fresh migrated PostgreSQL database, a temporary blob
 * directory, the same HTTP handlers the production server mounts, on 127.0.0.1 and a free port.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase } from "@berth/testkit";
import { bootServer } from "./boot";
import type { Services } from "./context";
import { createApiServer } from "./http/node";

export interface TestServer {
  url: string;
  services: Services;
  blobDir: string;
  adminPassword: string;
  /** Signs in through the API and returns a personal token for `username`. */
  token(username?: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export async function bootTestServer(): Promise<TestServer> {
  const database = await createTestDatabase();
  await database.prisma.$disconnect();
  const dataDir = await mkdtemp(path.join(tmpdir(), "berth-test-"));
  const blobDir = path.join(dataDir, "blobs");
  const adminPassword = "admin-test-password";
  const booted = await bootServer({ dataDir, blobDir, databaseUrl: database.url, adminPassword, log: () => {} });
  const server = createApiServer(booted.services);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    services: booted.services,
    blobDir,
    adminPassword,
    async token(username = "admin", password = adminPassword) {
      const res = await fetch(`${url}/api/trpc/auth.login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-berth-client": "cli" },
        body: JSON.stringify({ username, password, name: "test" }),
      });
      const body = (await res.json()) as { result?: { data: { token: string } }; error?: unknown };
      if (!body.result) throw new Error(`login failed: ${JSON.stringify(body.error)}`);
      return body.result.data.token;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await booted.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
