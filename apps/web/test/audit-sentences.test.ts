/** The image page's history sentences and the audit page's URL filters. */
import { describe, expect, it } from "vitest";
import { filtersFromParams, filtersToInput, filtersToParams, isoToLocalInput, localInputToIso } from "../src/lib/audit-filters";
import { describeForImage } from "../src/lib/audit-sentences";
import type { AuditEvent } from "../src/lib/models";

const ME = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;

function event(action: string, targets: AuditEvent["targets"], extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: 1,
    at: new Date("2026-01-01T00:00:00Z"),
    actorId: null,
    actorName: "alice",
    action,
    interface: "web",
    result: "ok",
    error: null,
    ip: null,
    userAgent: null,
    targets,
    details: {},
    prevHash: null,
    hash: "h",
    ...extra,
  };
}

describe("describeForImage", () => {
  it("tells a layer check (run after a push, as the pusher) by what it found, not as something the pusher tried", () => {
    const checked = [{ ref: "team/app:1.0", digestBefore: ME, digestAfter: ME }];
    expect(describeForImage(event("image.layer-check", checked, { interface: "registry" }), ME)).toEqual({
      text: "layers alice pushed as team/app:1.0 checked against the config",
      note: null,
    });
    const error = "the layer uncompresses to sha256:1234, not what the image's config lists";
    expect(describeForImage(event("image.layer-check", checked, { result: "failed", error }), ME)).toEqual({
      text: "a layer alice pushed as team/app:1.0 does not match the config",
      note: `failed: ${error}`,
    });
  });

  it("tells tags from the image's point of view", () => {
    expect(describeForImage(event("image.tag", [{ ref: "team/app:v1.2", digestBefore: OTHER, digestAfter: ME }]), ME)).toEqual({
      text: "tagged team/app:v1.2 by alice",
      note: "moved from sha256:bbbbbbbbbbbb",
    });
    expect(describeForImage(event("image.tag", [{ ref: "team/app:v1", digestBefore: "", digestAfter: ME }]), ME)).toEqual({
      text: "tagged team/app:v1 by alice",
      note: null,
    });
    expect(describeForImage(event("image.tag", [{ ref: "team/app:v1", digestBefore: ME, digestAfter: OTHER }]), ME).text).toBe(
      "moved team/app:v1 to sha256:bbbbbbbbbbbb by alice",
    );
    // A current tag's earlier history: it named another image then.
    expect(describeForImage(event("image.tag", [{ ref: "team/app:v1", digestBefore: "", digestAfter: OTHER }]), ME).text).toBe(
      "tagged team/app:v1 to sha256:bbbbbbbbbbbb by alice",
    );
  });

  it("tells removals, prunes, loads and pulls", () => {
    expect(describeForImage(event("image.remove", [{ ref: "team/app:v1", digestBefore: ME, digestAfter: "" }]), ME).text).toBe(
      "untagged team/app:v1 by alice",
    );
    expect(describeForImage(event("image.remove", [{ ref: ME, digestBefore: ME, digestAfter: "" }]), ME).text).toBe(
      "removed this image by alice",
    );
    expect(describeForImage(event("image.prune", [{ ref: ME, digestBefore: ME, digestAfter: "" }]), ME).text).toBe(
      "pruned this image by alice",
    );
    expect(
      describeForImage(
        event("image.load", [
          { ref: "other:1", digestBefore: "", digestAfter: OTHER },
          { ref: "app:2", digestBefore: OTHER, digestAfter: ME },
        ]),
        ME,
      ),
    ).toEqual({ text: "loaded app:2 by alice", note: "moved from sha256:bbbbbbbbbbbb" });
    expect(describeForImage(event("image.pull", [{ ref: "redis:7", digestBefore: "", digestAfter: ME }]), ME).text).toBe(
      "pulled redis:7 by alice",
    );
  });

  it("tells builds, imports and commits, with the tag they moved", () => {
    expect(describeForImage(event("image.build", [{ ref: "team/app:2", digestBefore: OTHER, digestAfter: ME }]), ME)).toEqual({
      text: "built team/app:2 by alice",
      note: "moved from sha256:bbbbbbbbbbbb",
    });
    expect(describeForImage(event("image.import", [{ ref: ME, digestBefore: "", digestAfter: ME }]), ME).text).toBe(
      "imported this image by alice",
    );
    expect(describeForImage(event("image.commit", [{ ref: "team/app:edited", digestBefore: "", digestAfter: ME }]), ME).text).toBe(
      "committed team/app:edited by alice",
    );
  });

  it("says who tried and why it was refused or failed", () => {
    const denied = event("image.remove", [{ ref: "team/app:release-1", digestBefore: "", digestAfter: "" }], {
      result: "denied",
      error: "team/app:release-1 is protected",
    });
    expect(describeForImage(denied, ME)).toEqual({
      text: "alice tried to remove team/app:release-1",
      note: "denied: team/app:release-1 is protected",
    });
    const failed = event("image.push", [{ ref: "localhost:5000/app:1", digestBefore: "", digestAfter: "" }], {
      result: "failed",
      error: "",
    });
    expect(describeForImage(failed, ME)).toEqual({ text: "alice tried to push localhost:5000/app:1", note: "failed" });
  });
});

describe("audit filters in the URL", () => {
  it("round-trips the filters and leaves out empty ones", () => {
    const values = filtersFromParams(
      new URLSearchParams("person=alice&action=image.*&namespace=&from=2026-01-01T10:00:00.000Z&colour=red"),
    );
    expect(values).toMatchObject({ person: "alice", action: "image.*", namespace: "", from: "2026-01-01T10:00:00.000Z" });
    expect(filtersToParams(values, { format: "csv" })).toBe("format=csv&person=alice&action=image.*&from=2026-01-01T10%3A00%3A00.000Z");
    expect(filtersToInput(values)).toEqual({
      person: "alice",
      action: "image.*",
      namespace: undefined,
      repository: undefined,
      tag: undefined,
      digest: undefined,
      result: undefined,
      from: "2026-01-01T10:00:00.000Z",
      to: undefined,
    });
  });

  it("shows times in local time in the form and keeps them in UTC in the URL", () => {
    const iso = "2026-03-04T05:06:00.000Z";
    expect(localInputToIso(isoToLocalInput(iso))).toBe(iso);
    expect(isoToLocalInput("nonsense")).toBe("");
    expect(localInputToIso("")).toBe("");
  });
});
