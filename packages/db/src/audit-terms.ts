/**
 * The search terms of audit events: the TypeScript twin of audit_target_terms in migration
 * 20261126020000_audit_search, which is what fills the index (test/audit-terms.test.ts checks that
 * both agree). The filters use it to name terms the way the trigger stored them.
 */
import { normalizedName, tryParseReference } from "@berth/engine";

export type AuditTermKind = "namespace" | "repository" | "tag" | "reference" | "digest";

export interface AuditTerm {
  kind: AuditTermKind;
  value: string;
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** Actions whose targets are image references or image IDs. */
const IMAGE_ACTION_RE = /^(?:images?|tags?|jobs?)\./;

/** True for a repository path component, the form of a namespace (`team-a`, `library`). */
export function isNamespaceName(value: string): boolean {
  return COMPONENT_RE.test(value);
}

/** The namespace of a normalised repository: its first path component after the domain. */
export function namespaceOf(repository: { domain: string; path: string }): string {
  return repository.path.split("/")[0] ?? "";
}

/** repository, namespace, tag and reference, and digest terms of an image reference; none when invalid. */
export function referenceTerms(ref: string): AuditTerm[] {
  const parsed = tryParseReference(ref);
  if (!parsed) return [];
  const repository = normalizedName(parsed);
  const terms: AuditTerm[] = [
    { kind: "repository", value: repository },
    { kind: "namespace", value: namespaceOf(parsed) },
  ];
  if (parsed.tag !== undefined) {
    terms.push({ kind: "tag", value: parsed.tag }, { kind: "reference", value: `${repository}:${parsed.tag}` });
  }
  if (parsed.digest) terms.push({ kind: "digest", value: parsed.digest.toString() });
  return terms;
}

function looksLikeDomain(component: string): boolean {
  return /[.:]/.test(component) || component === "localhost" || component.toLowerCase() !== component;
}

/** The terms one target of an event contributes (see audit_target_terms for the rules). */
export function targetTerms(action: string, target: unknown): AuditTerm[] {
  if (!target || typeof target !== "object" || Array.isArray(target)) return [];
  const fields = target as Record<string, unknown>;
  const terms: AuditTerm[] = [];
  for (const side of ["digestBefore", "digestAfter"]) {
    const digest = fields[side];
    if (typeof digest === "string" && DIGEST_RE.test(digest)) terms.push({ kind: "digest", value: digest });
  }
  const raw = fields.ref;
  if (raw === undefined || raw === null) return terms;
  const ref = typeof raw === "string" ? raw : JSON.stringify(raw);
  if (ref.startsWith("namespace:") && COMPONENT_RE.test(ref.slice(10))) return [...terms, { kind: "namespace", value: ref.slice(10) }];
  if (IMAGE_ACTION_RE.test(action)) {
    return DIGEST_RE.test(ref) ? [...terms, { kind: "digest", value: ref }] : [...terms, ...referenceTerms(ref)];
  }
  const slash = ref.indexOf("/");
  if (slash < 0) return terms;
  const rest = looksLikeDomain(ref.slice(0, slash)) ? ref.slice(slash + 1) : ref;
  const namespace = rest.split("/")[0] ?? "";
  return COMPONENT_RE.test(namespace) ? [...terms, { kind: "namespace", value: namespace }] : terms;
}

/** The distinct terms of an event, as the insert trigger indexes them. */
export function eventTerms(action: string, targets: unknown): AuditTerm[] {
  const seen = new Map<string, AuditTerm>();
  for (const target of Array.isArray(targets) ? targets : []) {
    for (const term of targetTerms(action, target)) seen.set(`${term.kind}\u0000${term.value}`, term);
  }
  return [...seen.values()];
}
