import { bootTestServer, type TestServer } from "@berth/api/testing";
import { expect } from "vitest";
import { hashPassword } from "../../api/src/auth/secrets";
import { berthAgainst, tempDir } from "./helpers";

type Berth = (argv: string[], stdin?: string) => ReturnType<typeof berthAgainst>;

/** A real server with `berth` signed in twice, each with its own config: as the admin, and as `dev`, a developer. */
export interface AdminAndDeveloper {
  server: TestServer;
  admin: Berth;
  dev: Berth;
}

export async function adminAndDeveloper(): Promise<AdminAndDeveloper> {
  const server = await bootTestServer();
  const [adminDir, devDir] = await Promise.all([tempDir(), tempDir()]);
  const admin: Berth = (argv, stdin = "") => berthAgainst(server, adminDir, argv, stdin);
  const dev: Berth = (argv, stdin = "") => berthAgainst(server, devDir, argv, stdin);
  expect((await admin(["login", server.url, "-u", "admin", "--password-stdin"], `${server.adminPassword}\n`)).code).toBe(0);
  await server.services.db.user.create({
    data: { username: "dev", passwordHash: await hashPassword("dev-password-1"), role: "developer" },
  });
  expect((await dev(["login", server.url, "-u", "dev", "--password-stdin"], "dev-password-1\n")).code).toBe(0);
  return { server, admin, dev };
}
