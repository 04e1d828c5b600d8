import type { DbClient } from "./client";

/**
 * The team's shared registry configuration (tables `registries` and `registry_mirrors`):
 * per upstream registry its mirrors in order, the insecure and mirrors-only flags, a CA bundle and credentials
 * whose password is stored sealed (the caller seals and opens it; this module never sees it
 * in clear). Mirrors are keyed by URL, so reordering keeps their health.
 */
export interface RegistryMirrorState {
  url: string;
  position: number;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  latencyMs: number | null;
  bytesServed: number;
  /** Set after a failure: until then pulls try the mirror after the healthy ones. */
  unhealthyUntil: Date | null;
}

export interface RegistryConfig {
  domain: string;
  insecure: boolean;
  /** Pulls use the mirrors alone, never the registry itself (air-gapped teams). */
  mirrorsOnly: boolean;
  ca: string | null;
  username: string | null;
  /** Ciphertext from the server's secret box; null without credentials. */
  passwordSealed: string | null;
  credentialsSetBy: string | null;
  credentialsSetAt: Date | null;
  updatedAt: Date;
  mirrors: RegistryMirrorState[];
}

export interface SaveRegistryInput {
  domain: string;
  insecure: boolean;
  mirrorsOnly: boolean;
  ca: string | null;
  /** Mirror URLs in the order pulls try them. */
  mirrors: string[];
}

const WITH_MIRRORS = { mirrors: { orderBy: { position: "asc" as const } } };

type RegistryRow = Omit<RegistryConfig, "mirrors"> & { mirrors: (Omit<RegistryMirrorState, "bytesServed"> & { bytesServed: bigint })[] };

function toConfig(row: RegistryRow): RegistryConfig {
  return {
    domain: row.domain,
    insecure: row.insecure,
    mirrorsOnly: row.mirrorsOnly,
    ca: row.ca,
    username: row.username,
    passwordSealed: row.passwordSealed,
    credentialsSetBy: row.credentialsSetBy,
    credentialsSetAt: row.credentialsSetAt,
    updatedAt: row.updatedAt,
    mirrors: row.mirrors.map((m) => ({
      url: m.url,
      position: m.position,
      lastSuccessAt: m.lastSuccessAt,
      lastError: m.lastError,
      lastErrorAt: m.lastErrorAt,
      latencyMs: m.latencyMs,
      bytesServed: Number(m.bytesServed),
      unhealthyUntil: m.unhealthyUntil,
    })),
  };
}

/** Every configured registry, `docker.io` first, then by domain. */
export async function listRegistries(db: DbClient): Promise<RegistryConfig[]> {
  const rows = await db.registry.findMany({ include: WITH_MIRRORS, orderBy: { domain: "asc" } });
  const configs = rows.map(toConfig);
  return [...configs.filter((r) => r.domain === "docker.io"), ...configs.filter((r) => r.domain !== "docker.io")];
}

export async function getRegistry(db: DbClient, domain: string): Promise<RegistryConfig | null> {
  const row = await db.registry.findUnique({ where: { domain }, include: WITH_MIRRORS });
  return row ? toConfig(row) : null;
}

/**
 * Creates or updates a registry's settings and replaces its mirror list: mirrors no longer
 * listed are removed, the others keep their health under their new position. Credentials are
 * left as they are. Run it in a transaction with its audit event.
 */
export async function saveRegistry(db: DbClient, input: SaveRegistryInput): Promise<RegistryConfig> {
  const now = new Date();
  await db.registry.upsert({
    where: { domain: input.domain },
    create: { domain: input.domain, insecure: input.insecure, mirrorsOnly: input.mirrorsOnly, ca: input.ca, updatedAt: now },
    update: { insecure: input.insecure, mirrorsOnly: input.mirrorsOnly, ca: input.ca, updatedAt: now },
  });
  await db.registryMirror.deleteMany({ where: { registryDomain: input.domain, url: { notIn: input.mirrors } } });
  for (const [position, url] of input.mirrors.entries()) {
    await db.registryMirror.upsert({
      where: { registryDomain_url: { registryDomain: input.domain, url } },
      create: { registryDomain: input.domain, url, position },
      update: { position },
    });
  }
  return (await getRegistry(db, input.domain))!;
}

/** Removes a registry with its mirrors and credentials; false when it was not configured. */
export async function removeRegistry(db: DbClient, domain: string): Promise<boolean> {
  const { count } = await db.registry.deleteMany({ where: { domain } });
  return count > 0;
}

/** Stores credentials (the password already sealed), creating the registry's row if needed. */
export async function setRegistryCredentials(
  db: DbClient,
  input: { domain: string; username: string; passwordSealed: string; setBy: string },
): Promise<RegistryConfig> {
  const now = new Date();
  const credentials = {
    username: input.username,
    passwordSealed: input.passwordSealed,
    credentialsSetBy: input.setBy,
    credentialsSetAt: now,
  };
  await db.registry.upsert({
    where: { domain: input.domain },
    create: { domain: input.domain, ...credentials, updatedAt: now },
    update: { ...credentials, updatedAt: now },
  });
  return (await getRegistry(db, input.domain))!;
}

/** Forgets a registry's credentials; false when it had none. */
export async function clearRegistryCredentials(db: DbClient, domain: string): Promise<boolean> {
  const { count } = await db.registry.updateMany({
    where: { domain, username: { not: null } },
    data: { username: null, passwordSealed: null, credentialsSetBy: null, credentialsSetAt: null, updatedAt: new Date() },
  });
  return count > 0;
}

/**
 * A request the mirror served: it is healthy again. `bytes` adds to what it served (atomically,
 * concurrent pulls report at once); `latencyMs` is given for manifest requests and pings only,
 * since a blob's time measures its size more than the mirror.
 */
export async function recordMirrorSuccess(
  db: DbClient,
  input: { domain: string; url: string; bytes: number; latencyMs?: number; at?: Date },
): Promise<void> {
  await db.registryMirror.updateMany({
    where: { registryDomain: input.domain, url: input.url },
    data: {
      lastSuccessAt: input.at ?? new Date(),
      bytesServed: { increment: BigInt(Math.max(0, Math.round(input.bytes))) },
      unhealthyUntil: null,
      ...(input.latencyMs !== undefined ? { latencyMs: Math.round(input.latencyMs) } : {}),
    },
  });
}

/** A request the mirror failed (unreachable, error, timeout, wrong bytes): unhealthy until `unhealthyUntil`. */
export async function recordMirrorFailure(
  db: DbClient,
  input: { domain: string; url: string; error: string; unhealthyUntil: Date; at?: Date },
): Promise<void> {
  await db.registryMirror.updateMany({
    where: { registryDomain: input.domain, url: input.url },
    data: { lastError: input.error.slice(0, 2000), lastErrorAt: input.at ?? new Date(), unhealthyUntil: input.unhealthyUntil },
  });
}
