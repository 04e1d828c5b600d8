import { randomBytes } from "node:crypto";
import { Digest } from "@berth/engine";
import type { ImageRecord } from "@berth/engine";
import pg from "pg";

// @berth/testkit depends on @berth/db, so db's own tests reach it by path (a workspace
// dependency would make the package graph cyclic).
export { configuredTestServerUrl, createTestDatabase, databaseUrl, startTestPostgres } from "../../../tooling/testkit/src/index";

export function randomDigest(): Digest {
  return Digest.of(randomBytes(32));
}

export function makeImage(overrides: Partial<ImageRecord> = {}): ImageRecord {
  const layers = [0, 1].map((i) => {
    const diffId = randomDigest();
    return {
      diffId,
      blob: i === 0 ? randomDigest() : diffId,
      blobSize: 1000 + i,
      size: 3_000_000_000 + i, // past 2^31: BigInt columns
      mediaType: i === 0 ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar",
    };
  });
  return {
    id: randomDigest(),
    created: new Date("2026-01-02T03:04:05.678Z"),
    architecture: "amd64",
    os: "linux",
    variant: null,
    size: layers.reduce((sum, layer) => sum + layer.size, 0),
    configSize: 1234,
    layers,
    labels: { "org.opencontainers.image.title": "test" },
    parentId: null,
    manifestDigest: randomDigest(),
    manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
    pinned: false,
    loadedAt: new Date("2026-03-04T05:06:07.890Z"),
    lastTagTime: null,
    ...overrides,
  };
}

export async function withPg<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
