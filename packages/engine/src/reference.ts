import { Digest } from "./digest";
import { InvalidArgumentError, InvalidReferenceError } from "./errors";

/**
 * Docker image references, parsed exactly like distribution/reference (ParseNormalizedNamed):
 * `[domain[:port]/]path[:tag][@digest]`, normalised to docker.io/library/… for Docker Hub.
 */
export interface ImageReference {
  /** Registry host, with port when given ("docker.io", "ghcr.io", "localhost:5000"). */
  readonly domain: string;
  /** Repository path inside the registry ("library/redis", "org/app"). */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DEFAULT_DOMAIN = "docker.io";
export const DEFAULT_TAG = "latest";
/** distribution/reference NameTotalLengthMax. */
export const NAME_TOTAL_LENGTH_MAX = 255;

const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";

// The grammar, piece by piece, as in distribution/reference/regexp.go.
const alphanumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const ipv6address = "\\[(?:[a-fA-F0-9:]+)\\]";
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPattern = "[\\w][\\w.-]{0,127}";
const digestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;

const REFERENCE_RE = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const ANCHORED_TAG_RE = new RegExp(`^${tagPattern}$`);
const ANCHORED_IDENTIFIER_RE = /^[a-f0-9]{64}$/;

const MSG_INVALID_FORMAT = "invalid reference format";

function referenceError(reference: string, message: string): InvalidReferenceError {
  return new InvalidReferenceError(reference, message);
}

/** Docker's splitDockerDomain: a first component is a registry when it looks like a host. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf("/");
  let domain: string;
  let remainder: string;
  if (i === -1) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    const first = name.slice(0, i);
    const isHost = /[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first;
    if (isHost) {
      domain = first;
      remainder = name.slice(i + 1);
    } else {
      domain = DEFAULT_DOMAIN;
      remainder = name;
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

function parseDigest(reference: string, value: string): Digest {
  const [algorithm = "", hex = ""] = value.split(":");
  if (algorithm !== "sha256") throw referenceError(reference, "unsupported digest algorithm");
  if (hex.length !== 64) throw referenceError(reference, "invalid checksum digest length");
  const digest = Digest.tryParse(`sha256:${hex}`);
  if (!digest) throw referenceError(reference, "invalid checksum digest format");
  return digest;
}

/**
 * Parses a reference as `docker pull`/`docker tag` do (ParseNormalizedNamed).
 * Throws InvalidReferenceError with docker's message.
 */
export function parseReference(input: string): ImageReference {
  if (ANCHORED_IDENTIFIER_RE.test(input)) {
    throw referenceError(input, `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain: splitDomain, remainder } = splitDockerDomain(input);
  const tagSep = remainder.indexOf(":");
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw referenceError(input, `invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const full = `${splitDomain}/${remainder}`;
  const match = REFERENCE_RE.exec(full);
  if (!match) {
    if (REFERENCE_RE.test(full.toLowerCase())) {
      throw referenceError(input, "invalid reference format: repository name must be lowercase");
    }
    throw referenceError(input, MSG_INVALID_FORMAT);
  }
  const name = match[1] ?? "";
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw referenceError(input, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  // The name always starts with the domain splitDockerDomain chose (tags cannot contain '/').
  const ref: { domain: string; path: string; tag?: string; digest?: Digest } = {
    domain: splitDomain,
    path: name.slice(splitDomain.length + 1),
  };
  if (match[2] !== undefined) ref.tag = match[2];
  if (match[3] !== undefined) ref.digest = parseDigest(input, match[3]);
  return ref;
}

/** Like parseReference, but returns undefined instead of throwing. */
export function tryParseReference(input: string): ImageReference | undefined {
  try {
    return parseReference(input);
  } catch {
    return undefined;
  }
}

/** True for a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG_RE.test(tag);
}

/** `docker.io/library/redis`: the repository name as stored in TagRecord.repository. */
export function normalizedName(ref: Pick<ImageReference, "domain" | "path">): string {
  return `${ref.domain}/${ref.path}`;
}

/** `redis`, `fixtures/app`, `ghcr.io/org/app`: the name as docker prints it. */
export function familiarName(ref: Pick<ImageReference, "domain" | "path">): string {
  if (ref.domain !== DEFAULT_DOMAIN) return normalizedName(ref);
  const path = ref.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX) && !path.slice(OFFICIAL_REPO_PREFIX.length).includes("/")) {
    return path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return path;
}

/** `redis:7@sha256:…`: familiar name plus whatever tag and digest the reference has. */
export function familiarString(ref: ImageReference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest.toString()}`;
  return s;
}

/** `docker.io/library/redis:7@sha256:…`: the fully normalised string. */
export function referenceString(ref: ImageReference): string {
  let s = normalizedName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest.toString()}`;
  return s;
}

/** Adds `latest` when the reference has neither tag nor digest (docker's TagNameOnly/WithDefaultTag). */
export function withDefaultTag(ref: ImageReference): ImageReference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: DEFAULT_TAG };
}

/** Familiar form of a stored repository name ("docker.io/library/redis" → "redis"). */
export function familiarRepository(repository: string): string {
  const ref = tryParseReference(repository);
  return ref ? familiarName(ref) : repository;
}

/**
 * Go's path.Match, used by `--filter reference=`. `*` and `?` never match `/`.
 * Throws InvalidArgumentError("syntax error in pattern") for malformed patterns, like Go.
 */
export function pathMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}

const globCache = new Map<string, RegExp>();

function compileGlob(pattern: string): RegExp {
  const cached = globCache.get(pattern);
  if (cached) return cached;
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*") {
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "\\") {
      i++;
      if (i >= pattern.length) throw badPattern();
      re += escapeRe(pattern[i] ?? "");
    } else if (c === "[") {
      i++;
      let cls = "[";
      if (pattern[i] === "^") {
        cls += "^";
        i++;
      }
      let first = true;
      for (;;) {
        if (i >= pattern.length) throw badPattern();
        let ch = pattern[i] ?? "";
        if (ch === "]" && !first) break;
        if (ch === "-" || (ch === "]" && first)) throw badPattern();
        first = false;
        if (ch === "\\") {
          i++;
          if (i >= pattern.length) throw badPattern();
          ch = pattern[i] ?? "";
        }
        cls += escapeRe(ch);
        i++;
        if (pattern[i] === "-") {
          i++;
          let hi = pattern[i];
          if (hi === undefined || hi === "]") throw badPattern();
          if (hi === "\\") {
            i++;
            hi = pattern[i];
            if (hi === undefined) throw badPattern();
          }
          if (hi < ch) throw badPattern();
          cls += `-${escapeRe(hi)}`;
          i++;
        }
      }
      // Go's character classes never match '/'.
      re += cls.startsWith("[^") ? `${cls}/]` : `(?!/)${cls}]`;
    } else {
      re += escapeRe(c);
    }
  }
  const compiled = new RegExp(`${re}$`, "s");
  globCache.set(pattern, compiled);
  return compiled;
}

function badPattern(): InvalidArgumentError {
  return new InvalidArgumentError("syntax error in pattern");
}

function escapeRe(c: string): string {
  return c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/**
 * docker's reference.FamiliarMatch for `--filter reference=<pattern>`: the pattern is matched
 * with path.Match against the familiar string (`redis:7`) and then the familiar name (`redis`).
 */
export function matchReferencePattern(pattern: string, ref: ImageReference | string): boolean {
  const parsed = typeof ref === "string" ? parseReference(ref) : ref;
  if (pathMatch(pattern, familiarString(parsed))) return true;
  return pathMatch(pattern, familiarName(parsed));
}
