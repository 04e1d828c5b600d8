import type { Endpoint, EndpointResult } from "@berth/engine";
import type { Services } from "../context";

/**
 * How this server reaches one registry (`docker.io`, `ghcr.io`, `127.0.0.1:5000`): the
 * team's shared configuration (mirrors, credentials, CA, insecure flag) turned into engine
 * endpoints. Pulls try `pullEndpoints` in order; pushes and searches talk to `origin`.
 */
export interface RegistryAccess {
  /** The registry's domain as in a reference (`docker.io`, `host:5000`). */
  domain: string;
  /** Mirrors in order, then the origin. */
  pullEndpoints: Endpoint[];
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

export function registryAccess(_services: Services, domain: string): Promise<RegistryAccess> {
  const origin = originEndpoint(domain);
  return Promise.resolve({ domain, pullEndpoints: [origin], origin, report: () => undefined });
}

/** An endpoint as a URL, for audit details and messages. */
export function endpointName(endpoint: Endpoint): string {
  return endpoint.url ?? `${endpoint.insecure ? "http" : "https"}://${endpoint.host ?? ""}`;
}
