import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as GeneratedPrismaClient } from "./generated/prisma/client";
import type { Prisma } from "./generated/prisma/client";

/** The Prisma client over node-postgres (no native query engine). */
export type PrismaClient = GeneratedPrismaClient;
/** The client handed to `prisma.$transaction(async (tx) => …)`. */
export type TransactionClient = Prisma.TransactionClient;
/** The names the API uses for the two. */
export type Database = PrismaClient;
export type Transaction = TransactionClient;
/** Either: functions that only query accept both, so callers can compose them in a transaction. */
export type DbClient = PrismaClient | TransactionClient;

export function createPrismaClient(url: string): PrismaClient {
  return new GeneratedPrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
}

/**
 * Runs `fn` in a transaction, or directly when `db` already is one. A transaction client has
 * `$transaction` too (a savepoint, two more round trips for nothing here), but not `$connect`.
 */
export async function inTransaction<T>(db: DbClient, fn: (tx: TransactionClient) => Promise<T>): Promise<T> {
  return "$connect" in db ? db.$transaction(fn) : fn(db);
}
