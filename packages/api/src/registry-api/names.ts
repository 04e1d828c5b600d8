import { normalizedName, parseReference, NAME_TOTAL_LENGTH_MAX } from "@berth/engine";
import { namespaceOf } from "../auth/permissions";
import { RegistryError } from "./errors";

/** The distribution spec's repository name grammar (`<name>` in every `/v2/<name>/…` route). */
const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/**
 * A registry a mirror request can name (containerd's `?ns=`, or the first path component), as
 * docker tells a registry from a path component: a host name with a dot, any host name with a
 * port (`registry.internal:5000`, `mirror:5000`), or localhost. The path form cannot hold a port.
 */
export const MIRRORABLE_HOST_RE =
  /^(?:[a-z0-9]+(?:-+[a-z0-9]+)*(?:\.[a-z0-9]+(?:-+[a-z0-9]+)*)+(?::\d{1,5})?|(?:[a-z0-9]+(?:-+[a-z0-9]+)*|localhost):\d{1,5}|localhost)$/;

export interface RegistryRepository {
  /** As in the URL (after the registry a mirror request names in `?ns=`), and in token scopes. */
  name: string;
  /** As stored in tags (`docker.io/team-a/app`). */
  repository: string;
  /** Whose permissions apply (`team-a`). */
  namespace: string | null;
}

/**
 * A repository as the registry API names it. `/v2/<name>` stands for the image name users type
 * in Berth (`team-a/app`, `redis`, `ghcr.io/org/app`), parsed as docker parses it: `team-a/app`
 * is stored as `docker.io/team-a/app`, the same repository `berth tag … team-a/app:1` writes.
 * `registry` is one a mirror request names apart from the path (containerd's `?ns=`), which may
 * carry a port that a URL's name cannot.
 */
export function registryRepository(name: string, registry?: string): RegistryRepository {
  if (name.length > NAME_TOTAL_LENGTH_MAX || !NAME_RE.test(name)) {
    throw new RegistryError("NAME_INVALID", `invalid repository name: ${JSON.stringify(name.slice(0, 300))}`, {
      name: name.slice(0, 300),
      rule: "path components of lowercase letters and digits, separated by '.', '_', '__' or '-', joined by '/'",
    });
  }
  if (registry !== undefined && !MIRRORABLE_HOST_RE.test(registry)) {
    throw new RegistryError(
      "NAME_INVALID",
      `invalid ns ${JSON.stringify(registry.slice(0, 300))}: expected a registry's host name, such as ghcr.io or registry.internal:5000`,
      { ns: registry.slice(0, 300) },
    );
  }
  const full = registry === undefined ? name : `${registry}/${name}`;
  let ref;
  try {
    ref = parseReference(full);
  } catch (err) {
    throw new RegistryError("NAME_INVALID", `invalid repository name ${full}: ${(err as Error).message}`, { name: full });
  }
  const repository = normalizedName(ref);
  return { name: full, repository, namespace: namespaceOf(repository) };
}

/**
 * The repository a token scope names: as in a URL, or with a registry whose port the URL form
 * cannot hold (`registry.internal:5000/team/app`, asked for by a mirror request's `?ns=`).
 */
export function scopeRepository(name: string): RegistryRepository {
  const slash = name.indexOf("/");
  const first = name.slice(0, slash);
  if (slash > 0 && first.includes(":")) return registryRepository(name.slice(slash + 1), first);
  return registryRepository(name);
}

export type RegistryRoute =
  | { kind: "base" }
  | { kind: "token" }
  | { kind: "catalog" }
  | { kind: "tags"; name: string }
  | { kind: "manifest"; name: string; reference: string }
  | { kind: "blob"; name: string; digest: string }
  | { kind: "upload-start"; name: string }
  | { kind: "upload"; name: string; id: string }
  | { kind: "referrers"; name: string; digest: string };

const PATTERNS: [RegExp, (m: RegExpExecArray) => RegistryRoute][] = [
  [/^\/v2\/(.+?)\/blobs\/uploads\/?$/, (m) => ({ kind: "upload-start", name: m[1]! })],
  [/^\/v2\/(.+?)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: "upload", name: m[1]!, id: m[2]! })],
  [/^\/v2\/(.+?)\/blobs\/([^/]+)$/, (m) => ({ kind: "blob", name: m[1]!, digest: m[2]! })],
  [/^\/v2\/(.+?)\/manifests\/([^/]+)$/, (m) => ({ kind: "manifest", name: m[1]!, reference: m[2]! })],
  [/^\/v2\/(.+?)\/tags\/list$/, (m) => ({ kind: "tags", name: m[1]! })],
  [/^\/v2\/(.+?)\/referrers\/([^/]+)$/, (m) => ({ kind: "referrers", name: m[1]!, digest: m[2]! })],
];

/** Which endpoint a `/v2/…` path is; undefined for none (answered 404 NAME_UNKNOWN… by the caller). */
export function matchRoute(pathname: string): RegistryRoute | undefined {
  if (pathname === "/v2/" || pathname === "/v2") return { kind: "base" };
  if (pathname === "/v2/token") return { kind: "token" };
  if (pathname === "/v2/_catalog") return { kind: "catalog" };
  for (const [re, build] of PATTERNS) {
    const m = re.exec(pathname);
    if (m) return build(m);
  }
  return undefined;
}
