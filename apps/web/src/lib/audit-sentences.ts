/**
 * An image's audit history in words ("tagged team/app:v1.2 by alice", "moved from sha256:…"),
 * told from that image's point of view. Pure: the image page renders it, test/audit-sentences.test.ts checks it.
 */
import type { AuditEvent, AuditTarget } from "./models";

export interface HistorySentence {
  /** "tagged team/app:v1.2 by alice", or "alice tried to remove team/app:v1" for a refusal or failure. */
  text: string;
  /** What followed from it: "moved from sha256:1a2b3c4d5e6f", or the refusal's reason. */
  note: string | null;
}

const short = (digest: string) => `sha256:${digest.replace(/^sha256:/, "").slice(0, 12)}`;

/** The targets about this image, or all of them (a current tag's earlier history). */
function relevant(targets: AuditTarget[], imageId: string): AuditTarget[] {
  const mine = targets.filter((t) => t.ref === imageId || t.digestBefore === imageId || t.digestAfter === imageId);
  return mine.length ? mine : targets;
}

function names(targets: AuditTarget[], imageId: string): string {
  const refs = [...new Set(targets.map((t) => (t.ref === imageId ? "this image" : t.ref.startsWith("sha256:") ? short(t.ref) : t.ref)))];
  if (refs.length <= 3) return refs.join(", ");
  return `${refs.slice(0, 3).join(", ")} and ${refs.length - 3} more`;
}

/** [past tense, infinitive, note] for one event, as seen from the image. */
function phrase(e: AuditEvent, imageId: string): [string, string, string | null] {
  const targets = relevant(e.targets, imageId);
  const first = targets[0];
  const what = names(targets, imageId) || "this image";
  const before = first?.digestBefore ?? "";
  const after = first?.digestAfter ?? "";
  const movedFrom = before && before !== imageId && after === imageId ? `moved from ${short(before)}` : null;
  switch (e.action) {
    case "image.tag":
      if (after === imageId) return [`tagged ${what}`, `tag ${what}`, movedFrom];
      if (before === imageId && after) return [`moved ${what} to ${short(after)}`, `move ${what}`, null];
      return [`tagged ${what}${after ? ` to ${short(after)}` : ""}`, `tag ${what}`, null];
    case "image.remove":
      if (first?.ref === imageId) return ["removed this image", "remove this image", null];
      return [`untagged ${what}`, `remove ${what}`, before && before !== imageId ? `it then named ${short(before)}` : null];
    case "image.prune":
      return first?.ref === imageId ? ["pruned this image", "prune this image", null] : [`untagged ${what} while pruning`, "prune", null];
    case "image.load":
      return [first?.ref === imageId ? "loaded this image" : `loaded ${what}`, `load ${what}`, movedFrom];
    case "image.pull":
      return [`pulled ${what}`, `pull ${what}`, movedFrom];
    case "image.build":
      return [first?.ref === imageId ? "built this image" : `built ${what}`, `build ${what}`, movedFrom];
    case "image.import":
      return [first?.ref === imageId ? "imported this image" : `imported ${what}`, `import ${what}`, movedFrom];
    case "image.commit":
      return [first?.ref === imageId ? "committed this image" : `committed ${what}`, `commit ${what}`, movedFrom];
    case "image.push":
      return [`pushed ${what}`, `push ${what}`, null];
    case "image.save":
      return [`saved ${what} to an archive`, `save ${what}`, null];
    case "image.pin":
      return ["pinned this image", "pin this image", null];
    case "image.unpin":
      return ["unpinned this image", "unpin this image", null];
    default:
      return [`${e.action} ${what}`, `${e.action} ${what}`, null];
  }
}

export function describeForImage(e: AuditEvent, imageId: string): HistorySentence {
  if (e.action === "image.layer-check") {
    // Run by a job after a push, as the person who pushed: the result is about the layers, not them.
    const what = names(relevant(e.targets, imageId), imageId) || "this image";
    if (e.result === "ok") return { text: `layers ${e.actorName} pushed as ${what} checked against the config`, note: null };
    return { text: `a layer ${e.actorName} pushed as ${what} does not match the config`, note: e.error ? `failed: ${e.error}` : "failed" };
  }
  const [past, infinitive, note] = phrase(e, imageId);
  if (e.result === "ok") return { text: `${past} by ${e.actorName}`, note };
  const why = e.error ? `: ${e.error}` : "";
  return { text: `${e.actorName} tried to ${infinitive}`, note: `${e.result === "denied" ? "denied" : "failed"}${why}` };
}
