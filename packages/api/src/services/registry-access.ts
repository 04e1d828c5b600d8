import { rootCertificates } from "node:tls";
import { getRegistry, recordMirrorFailure, recordMirrorSuccess, type RegistryConfig } from "@berth/db";
import { ContentError, EngineError, NoMatchingPlatformError, type Endpoint, type EndpointResult } from "@berth/engine";
import type { Services } from "../context";
import { errorMessage } from "../errors";

/**
 * How this server reaches one registry (`docker.io`, `ghcr.io`, `127.0.0.1:5000`): the
 * team's shared configuration (mirrors, credentials, CA, insecure and mirrors-only flags) turned
 * into engine endpoints. Pulls try `pullEndpoints` in order; pushes and searches talk to `origin`.
 */
export interface RegistryAccess {
  /** The registry's domain as in a reference (`docker.io`, `host:5000`). */
  domain: string;
  /** Mirrors in order, then the origin (the mirrors alone when `mirrorsOnly`). */
  pullEndpoints: Endpoint[];
  /** The team set this registry to use its mirrors only: pulls never fall back to the origin. */
  mirrorsOnly: boolean;
  /** The registry itself, with the team's credentials for it. */
  origin: Endpoint;
  /** Records one request's outcome for mirror health (best effort, never throws). */
  report(endpoint: Endpoint, result: EndpointResult): void;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/** Docker Hub is served by registry-1.docker.io; loopback registries speak plain HTTP, as Docker allows. */
export function originEndpoint(domain: string): Endpoint {
  if (domain === "docker.io") return { url: "https://registry-1.docker.io" };
  if (LOOPBACK.test(domain)) return { url: `http://${domain}`, insecure: true };
  return { url: `https://${domain}` };
}

/**
 * How long a mirror that failed is tried only after the healthy ones. Not skipped outright:
 * the origin may be unreachable or rate-limited (why the mirror exists), and a mirror that
 * glitched once should not turn the next pulls into failures. After the cool-down, or its next
 * success, the mirror takes its place in the list again.
 */
export const MIRROR_COOL_DOWN_MS = 60_000;
/** A mirror has the origin behind it: give up on it sooner than on the origin. */
const MIRROR_TIMEOUT_MS = 15_000;
const MIRROR_RETRIES = 1;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * The team's configuration for `domain`, read for every pull (one small query), so a change
 * applies to the next pull on every replica without a cache to invalidate.
 */
export async function registryAccess(services: Services, domain: string): Promise<RegistryAccess> {
  return accessFrom(services, domain, await getRegistry(services.db, domain));
}

/** The endpoints of one registry's configuration, and a `report` that records mirror health. */
export function accessFrom(
  services: Pick<Services, "db" | "secrets">,
  domain: string,
  config: RegistryConfig | null,
  now = new Date(),
): RegistryAccess {
  const origin = originFor(services, domain, config);
  const mirrorUrls = new Map<Endpoint, string>();
  const mirrors = orderedMirrors(config, now).map((url) => {
    const endpoint = mirrorEndpoint(url, config);
    mirrorUrls.set(endpoint, url);
    return endpoint;
  });
  // Health writes run one after another, in the order the requests ended.
  let writes: Promise<void> = Promise.resolve();
  const mirrorsOnly = config?.mirrorsOnly ?? false;
  return {
    domain,
    pullEndpoints: mirrorsOnly ? mirrors : [...mirrors, origin],
    mirrorsOnly,
    origin,
    report(endpoint, result) {
      const url = mirrorUrls.get(endpoint);
      if (url === undefined) return;
      writes = writes.then(() => recordMirrorResult(services, domain, url, result)).catch(() => undefined);
    },
  };
}

const MIRRORS_ONLY_NOTE = "is set to use its mirrors only (no fall-back to the origin)";

/**
 * Why a pull of a mirrors-only registry failed, said in its error: the mirrors could not serve
 * it, and nothing else was tried. Endpoint failures only (a registry's answer, a network error,
 * wrong bytes), not errors about the content itself, which the origin could not have fixed.
 * The error keeps its class and code (the API and the /v2/ mirror map them to statuses).
 */
export function explainMirrorsOnly<T>(access: Pick<RegistryAccess, "domain" | "mirrorsOnly">, err: T): T {
  if (!access.mirrorsOnly || !(err instanceof EngineError) || err instanceof ContentError || err instanceof NoMatchingPlatformError) {
    return err;
  }
  if (!err.message.includes(MIRRORS_ONLY_NOTE)) err.message = `${err.message}; ${mirrorsOnlyNote(access.domain)}`;
  return err;
}

/** `no mirror of docker.io could serve it, and docker.io is set to use its mirrors only (no fall-back to the origin)` */
export function mirrorsOnlyNote(domain: string): string {
  return `no mirror of ${domain} could serve it, and ${domain} ${MIRRORS_ONLY_NOTE}`;
}

/** Records one request's outcome on a mirror (best effort: health must never fail a pull). */
export async function recordMirrorResult(
  services: Pick<Services, "db">,
  domain: string,
  url: string,
  result: Pick<EndpointResult, "ok" | "error" | "latencyMs" | "bytes" | "kind">,
): Promise<void> {
  try {
    if (result.ok) {
      await recordMirrorSuccess(services.db, {
        domain,
        url,
        bytes: result.kind === "blob" ? result.bytes : 0,
        ...(result.kind === "manifest" ? { latencyMs: result.latencyMs } : {}),
      });
    } else {
      await recordMirrorFailure(services.db, {
        domain,
        url,
        error: errorMessage(result.error ?? new Error("request failed")),
        unhealthyUntil: new Date(Date.now() + MIRROR_COOL_DOWN_MS),
      });
    }
  } catch {
    // The database being briefly unavailable costs a health sample, not the pull.
  }
}

/** Healthy mirrors in their order, then those cooling down after a failure (in their order). */
export function orderedMirrors(config: RegistryConfig | null, now: Date): string[] {
  const mirrors = config?.mirrors ?? [];
  const coolingDown = (m: (typeof mirrors)[number]) => m.unhealthyUntil !== null && m.unhealthyUntil > now;
  return [...mirrors.filter((m) => !coolingDown(m)), ...mirrors.filter(coolingDown)].map((m) => m.url);
}

/** A custom CA is trusted in addition to the system roots, as docker's certs.d does. */
function trustedCas(config: RegistryConfig | null): string | undefined {
  return config?.ca ? [...rootCertificates, config.ca].join("\n") : undefined;
}

/** A mirror: plain HTTP only when its URL says so (validated on save); credentials never go to mirrors. */
export function mirrorEndpoint(url: string, config: RegistryConfig | null): Endpoint {
  const ca = trustedCas(config);
  return {
    url,
    ...(config?.insecure ? { insecure: true } : {}),
    ...(ca ? { ca } : {}),
    timeoutMs: MIRROR_TIMEOUT_MS,
    retries: MIRROR_RETRIES,
  };
}

/** The origin with the team's insecure flag, CA and credentials (the password opened here, for this pull only). */
function originFor(services: Pick<Services, "secrets">, domain: string, config: RegistryConfig | null): Endpoint {
  const origin = originEndpoint(domain);
  if (!config) return origin;
  const ca = trustedCas(config);
  const endpoint: Endpoint = { ...origin, ...(config.insecure ? { insecure: true } : {}), ...(ca ? { ca } : {}) };
  if (config.username !== null && config.passwordSealed !== null) {
    let password: string;
    try {
      password = services.secrets.open(config.passwordSealed, credentialsContext(domain));
    } catch (err) {
      throw new Error(`cannot use the stored credentials for ${domain}: ${errorMessage(err)}; log in to ${domain} again`);
    }
    endpoint.credentials = { username: config.username, password };
  }
  return endpoint;
}

/** What a registry password is sealed to: it opens only on its own registry's row. */
export function credentialsContext(domain: string): string {
  return `registry-credentials:${domain}`;
}

/** An endpoint as a URL, for audit details and messages. */
export function endpointName(endpoint: Endpoint): string {
  return endpoint.url ?? `${endpoint.insecure ? "http" : "https"}://${endpoint.host ?? ""}`;
}
