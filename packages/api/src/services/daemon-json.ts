import type { RegistryConfig } from "@berth/db";
import { MIRRORABLE_HOST_RE } from "../registry-api/names";
import { isLoopbackHost, originEndpoint } from "./registry-access";

/**
 * "Use from your machine": the team's configuration in the words of a local Docker daemon
 * (`/etc/docker/daemon.json`) and of containerd (`/etc/containerd/certs.d/<host>/hosts.toml`).
 * daemon.json's `registry-mirrors` applies to Docker Hub only; mirrors of other registries
 * can only be given to containerd (or to Docker with the containerd image store).
 */
export interface MachineConfig {
  /** Pretty JSON: `{ "registry-mirrors": [...], "insecure-registries": [...] }`. */
  daemonJson: string;
  /** Registries whose mirrors daemon.json cannot express. */
  notExpressible: string[];
  notes: string[];
  hostsToml: { domain: string; path: string; text: string }[];
  /** Berth itself as the machine's Docker Hub mirror (its pull-through cache), when its URL is known. */
  berthMirror?: BerthMirrorConfig;
}

export interface BerthMirrorConfig {
  url: string;
  daemonJson: string;
  hostsToml: { path: string; text: string };
  /** The other registries set up here, through Berth too: containerd only (Docker mirrors Docker Hub alone). */
  otherRegistries: { domain: string; path: string; text: string }[];
  notes: string[];
}

export function machineConfig(registries: RegistryConfig[], berthUrl?: string): MachineConfig {
  const hub = registries.find((r) => r.domain === "docker.io");
  const daemon = {
    "registry-mirrors": hub?.mirrors.map((m) => m.url) ?? [],
    "insecure-registries": registries.filter((r) => r.insecure).map((r) => r.domain),
  };
  const notExpressible = registries.filter((r) => r.domain !== "docker.io" && r.mirrors.length > 0).map((r) => r.domain);
  const notes = [
    "Docker reads registry-mirrors for Docker Hub (docker.io) only.",
    ...(notExpressible.length
      ? [
          `Mirrors of ${listed(notExpressible)} cannot be expressed in daemon.json; containerd (and Docker with the containerd image store) reads them from the hosts.toml files below.`,
        ]
      : []),
    ...(registries.some((r) => r.ca)
      ? ["Custom CA bundles go to /etc/docker/certs.d/<registry>/ca.crt (Docker) or the hosts.toml `ca` setting (containerd)."]
      : []),
    "Credentials stay on the Berth server: run `docker login` on your machine for your own.",
  ];
  const hostsToml = registries
    .filter((r) => r.mirrors.length > 0 || r.insecure || r.ca)
    .map((r) => ({ domain: r.domain, path: `/etc/containerd/certs.d/${r.domain}/hosts.toml`, text: hostsTomlFor(r) }));
  const config: MachineConfig = { daemonJson: `${JSON.stringify(daemon, null, 2)}\n`, notExpressible, notes, hostsToml };
  const others = registries.map((r) => r.domain).filter((d) => d !== "docker.io" && MIRRORABLE_HOST_RE.test(d));
  return berthUrl ? { ...config, berthMirror: berthMirrorConfig(berthUrl, others) } : config;
}

/**
 * Berth as the machine's `registry-mirrors` entry: every Docker Hub pull goes through Berth's
 * cache (which reaches docker.io through the team's settings above). Plain HTTP is only
 * accepted by Docker for a host listed in insecure-registries, and by containerd as written.
 */
export function berthMirrorConfig(berthUrl: string, otherRegistries: string[] = []): BerthMirrorConfig {
  const url = new URL(berthUrl);
  const plain = url.protocol === "http:" && !isLoopbackHost(url.host);
  const daemon = { "registry-mirrors": [url.origin], ...(plain ? { "insecure-registries": [url.host] } : {}) };
  // containerd tells a mirror which registry a request is for (`?ns=ghcr.io`): one Berth serves them all.
  const throughBerth = (domain: string) => ({
    path: `/etc/containerd/certs.d/${domain}/hosts.toml`,
    text: hostsTomlFor({ domain, insecure: false, ca: null, mirrors: [{ url: url.origin }] }),
  });
  const inPath = otherRegistries.filter((domain) => !domain.includes(":"));
  return {
    url: url.origin,
    daemonJson: `${JSON.stringify(daemon, null, 2)}\n`,
    hostsToml: throughBerth("docker.io"),
    otherRegistries: otherRegistries.map((domain) => ({ domain, ...throughBerth(domain) })),
    notes: [
      // Docker sends a mirror the credentials it holds for Docker Hub, not those of the mirror's host.
      "Berth refuses anonymous pulls: on the machine run `docker login` (no host) with your Berth username and an API token; Docker presents its Docker Hub login to the mirror.",
      'Images pulled this way are cached in Berth, shown as "cached from docker.io", and checked against docker.io again after the mirror TTL.',
      "This hosts.toml replaces one written from the docker.io mirrors above: Berth itself uses those mirrors.",
      ...(otherRegistries.length
        ? [`containerd can pull ${listed(otherRegistries)} through Berth the same way (their hosts.toml files above).`]
        : []),
      // A mirror location is a reference's prefix: it cannot name a registry with a port.
      ...(inPath.length
        ? [
            `podman and CRI-O can use ${url.host}/<registry> as a mirror location (${url.host}/${inPath[0]!})${inPath.length < otherRegistries.length ? ", for registries without a port" : ""}.`,
          ]
        : []),
    ],
  };
}

const quote = (s: string) => JSON.stringify(s);

/** containerd's hosts.toml: the mirrors in order as pull/resolve hosts, then the origin as `server`. */
export function hostsTomlFor(r: Pick<RegistryConfig, "domain" | "insecure" | "ca"> & { mirrors: { url: string }[] }): string {
  const server = originEndpoint(r.domain).url ?? `https://${r.domain}`;
  const lines = [`server = ${quote(r.insecure && r.domain !== "docker.io" ? `http://${r.domain}` : server)}`];
  if (r.insecure) lines.push("skip_verify = true");
  if (r.ca) lines.push(`ca = ${quote(`/etc/containerd/certs.d/${r.domain}/ca.crt`)}`);
  for (const m of r.mirrors) {
    lines.push("", `[host.${quote(m.url)}]`, '  capabilities = ["pull", "resolve"]');
    if (r.insecure) lines.push("  skip_verify = true");
    if (r.ca) lines.push(`  ca = ${quote(`/etc/containerd/certs.d/${r.domain}/ca.crt`)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `a`, `a and b`, `a, b, and c`. */
function listed(items: string[]): string {
  return new Intl.ListFormat("en", { type: "conjunction" }).format(items);
}
