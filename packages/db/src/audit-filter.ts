/**
 * The audit log's filters, checked and turned into what the search reads: search terms (as the
 * insert trigger stored them), the actions an `image.*` prefix stands for, and an id range for the
 * time range. Bad input is refused with a message naming the filter.
 */
import { Digest, InvalidArgumentError, isValidTag, normalizedName, tryParseReference, type ImageReference } from "@berth/engine";
import type { AuditResult } from "./audit";
import { auditIdRange } from "./audit-range";
import { isNamespaceName, type AuditTerm } from "./audit-terms";
import type { DbClient } from "./client";

export interface AuditFilter {
  /** Exact actor name: a username, `robot:<name>`, `system`, …. */
  person?: string | undefined;
  /** Exact action (`image.tag`), or a prefix ending in `*` (`image.*`). */
  action?: string | undefined;
  /** First path component of a repository (`team-a`, `library`). */
  namespace?: string | undefined;
  /** A repository (`team-a/app`, `redis`, `localhost:5000/x/y`); with `:tag` or `@digest`, that too. */
  repository?: string | undefined;
  /** A tag name (`v1.2`: in any repository), or a reference with a tag (`team-a/app:v1.2`). */
  tag?: string | undefined;
  /** An image or manifest digest (`sha256:…`), or a unique prefix of at least 12 hex characters. */
  digest?: string | undefined;
  result?: AuditResult | undefined;
  /** Inclusive lower bound on the event time. */
  from?: Date | undefined;
  /** Exclusive upper bound on the event time. */
  to?: Date | undefined;
}

export const AUDIT_RESULTS: readonly AuditResult[] = ["ok", "denied", "failed"];
/** Docker's short IDs are 12 characters: shorter prefixes are too likely to name several images. */
export const DIGEST_PREFIX_MIN = 12;

/** What a search reads; `null` from resolveAuditFilter when nothing can match. */
export interface ResolvedAuditFilter {
  person?: string;
  /** Any of these actions. */
  actions?: string[];
  result?: AuditResult;
  /** ids [lo, hi) the time range covers. */
  lo: bigint | null;
  hi: bigint | null;
  /** Term ids an event must all name. */
  terms: bigint[];
}

function refused(filter: string, value: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid ${filter} filter "${value}": ${why}`);
}

function parseRef(filter: string, value: string): ImageReference {
  const ref = tryParseReference(value);
  if (!ref) throw refused(filter, value, "not an image reference (e.g. team-a/app, redis, localhost:5000/team-a/app)");
  return ref;
}

function refTerms(ref: ImageReference): AuditTerm[] {
  const repository = normalizedName(ref);
  const terms: AuditTerm[] = [{ kind: "repository", value: repository }];
  if (ref.tag !== undefined) terms.push({ kind: "reference", value: `${repository}:${ref.tag}` });
  if (ref.digest) terms.push({ kind: "digest", value: ref.digest.toString() });
  return terms;
}

/** The terms the namespace, repository and tag filters require. */
export function filterTerms(filter: Pick<AuditFilter, "namespace" | "repository" | "tag">): AuditTerm[] {
  const terms: AuditTerm[] = [];
  if (filter.namespace !== undefined) {
    if (!isNamespaceName(filter.namespace)) {
      throw refused("namespace", filter.namespace, "a namespace is a repository's first path component, e.g. team-a or library");
    }
    terms.push({ kind: "namespace", value: filter.namespace });
  }
  if (filter.repository !== undefined) terms.push(...refTerms(parseRef("repository", filter.repository)));
  if (filter.tag !== undefined) {
    const tag = filter.tag;
    if (/[:/@]/.test(tag)) {
      const ref = parseRef("tag", tag);
      if (ref.tag === undefined) throw refused("tag", tag, "give a tag name (v1.2) or a reference with a tag (team-a/app:v1.2)");
      terms.push(...refTerms(ref).filter((t) => t.kind !== "repository"));
    } else if (isValidTag(tag)) {
      terms.push({ kind: "tag", value: tag });
    } else {
      throw refused("tag", tag, "a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'");
    }
  }
  return terms;
}

/** `sha256:<64 hex>` for a full digest, else the checked hex prefix. */
export function digestFilter(value: string): { digest: string } | { prefix: string } {
  const hex = value
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, "");
  if (!/^[0-9a-f]+$/.test(hex) || hex.length > 64) {
    throw refused("digest", value, "expected sha256: followed by hex characters");
  }
  if (hex.length === 64) return { digest: Digest.fromHex(hex).toString() };
  if (hex.length < DIGEST_PREFIX_MIN) {
    throw refused("digest", value, `a digest prefix needs at least ${DIGEST_PREFIX_MIN} hex characters`);
  }
  return { prefix: `sha256:${hex}` };
}

/** `image.*` → the prefix; an exact action → undefined. */
export function actionPrefix(action: string): string | undefined {
  const star = action.indexOf("*");
  if (star < 0) return undefined;
  if (star !== action.length - 1) throw refused("action", action, "'*' may only end the action, as in image.*");
  return action.slice(0, -1);
}

/** Every distinct action, read from the (action, id) index one value at a time (a loose index scan). */
export async function listAuditActions(db: DbClient): Promise<string[]> {
  const rows = await db.$queryRaw<{ action: string }[]>`
    WITH RECURSIVE a(action) AS (
      (SELECT action FROM audit_events ORDER BY action LIMIT 1)
      UNION ALL
      SELECT (SELECT e.action FROM audit_events e WHERE e.action > a.action ORDER BY e.action LIMIT 1)
      FROM a WHERE a.action IS NOT NULL
    )
    SELECT action FROM a WHERE action IS NOT NULL`;
  return rows.map((r) => r.action);
}

/** Ids of terms, in the order given; null for a term no event names. */
export async function findAuditTerms(db: DbClient, terms: AuditTerm[]): Promise<(bigint | null)[]> {
  if (terms.length === 0) return [];
  const rows = await db.$queryRaw<{ id: bigint; kind: string; value: string }[]>`
    SELECT s.id, s.kind, s.value FROM audit_search_terms s
    JOIN unnest(${terms.map((t) => t.kind)}::text[], ${terms.map((t) => t.value)}::text[]) AS w(kind, value)
      ON s.kind = w.kind AND s.value = w.value`;
  const ids = new Map(rows.map((r) => [`${r.kind}\u0000${r.value}`, r.id]));
  return terms.map((t) => ids.get(`${t.kind}\u0000${t.value}`) ?? null);
}

/** The one digest term a prefix names; null for none; refused when several match. */
async function digestPrefixTerm(db: DbClient, input: string, prefix: string): Promise<bigint | null> {
  const rows = await db.$queryRaw<{ id: bigint; value: string }[]>`
    SELECT id, value FROM audit_search_terms
    WHERE kind = 'digest' AND value LIKE ${`${prefix}%`} ORDER BY value LIMIT 2`;
  if (rows.length > 1) {
    throw refused("digest", input, `the prefix matches several digests (${rows.map((r) => r.value).join(", ")}, …): give more characters`);
  }
  return rows[0]?.id ?? null;
}

/** Checks a filter and looks up what it names; null when no event can match. */
export async function resolveAuditFilter(db: DbClient, filter: AuditFilter): Promise<ResolvedAuditFilter | null> {
  const wanted = filterTerms(filter);
  const digest = filter.digest !== undefined ? digestFilter(filter.digest) : undefined;
  if (digest && "digest" in digest) wanted.push({ kind: "digest", value: digest.digest });
  if (filter.result !== undefined && !AUDIT_RESULTS.includes(filter.result)) {
    throw refused("result", filter.result, `expected one of ${AUDIT_RESULTS.join(", ")}`);
  }
  const prefix = filter.action !== undefined ? actionPrefix(filter.action) : undefined;
  const anyAction = prefix === "";

  const [termIds, prefixId, actions, range] = await Promise.all([
    findAuditTerms(db, wanted),
    digest && "prefix" in digest ? digestPrefixTerm(db, filter.digest!, digest.prefix) : Promise.resolve(undefined),
    prefix !== undefined && !anyAction ? listAuditActions(db).then((all) => all.filter((a) => a.startsWith(prefix))) : undefined,
    auditIdRange(db, filter),
  ]);
  if (termIds.includes(null) || prefixId === null || actions?.length === 0 || range === null) return null;

  const resolved: ResolvedAuditFilter = {
    lo: range.lo,
    hi: range.hi,
    terms: [...new Set([...(termIds as bigint[]), ...(prefixId !== undefined ? [prefixId] : [])])],
  };
  if (filter.person !== undefined) resolved.person = filter.person;
  if (actions) resolved.actions = actions;
  else if (filter.action !== undefined && !anyAction) resolved.actions = [filter.action];
  if (filter.result !== undefined) resolved.result = filter.result;
  return resolved;
}
