import type { RegistryConfig } from "@berth/db";
import { originEndpoint } from "./registry-access";

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
}

export function machineConfig(registries: RegistryConfig[]): MachineConfig {
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
          `Mirrors of ${notExpressible.join(", ")} cannot be expressed in daemon.json; containerd (and Docker with the containerd image store) reads them from the hosts.toml files below.`,
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
  return { daemonJson: `${JSON.stringify(daemon, null, 2)}\n`, notExpressible, notes, hostsToml };
}

const quote = (s: string) => JSON.stringify(s);

/** containerd's hosts.toml: the mirrors in order as pull/resolve hosts, then the origin as `server`. */
export function hostsTomlFor(r: RegistryConfig): string {
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
