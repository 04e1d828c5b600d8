import { describe, expect, it } from "vitest";

import { InvalidReferenceError } from "../src/errors";
import {
  familiarName,
  familiarString,
  matchReferencePattern,
  normalizedName,
  parseReference,
  referenceString,
  withDefaultTag,
} from "../src/reference";

const HEX = "f".repeat(64);

// Cases from distribution/reference's reference_test.go and normalize_test.go.
describe("parseReference: valid references", () => {
  const cases: [string, { domain: string; path: string; tag?: string; digest?: string }][] = [
    ["test_com", { domain: "docker.io", path: "library/test_com" }],
    ["test.com:tag", { domain: "docker.io", path: "library/test.com", tag: "tag" }],
    ["test.com:5000", { domain: "docker.io", path: "library/test.com", tag: "5000" }],
    ["test.com/repo:tag", { domain: "test.com", path: "repo", tag: "tag" }],
    ["test:5000/repo", { domain: "test:5000", path: "repo" }],
    ["test:5000/repo:tag", { domain: "test:5000", path: "repo", tag: "tag" }],
    [`test:5000/repo@sha256:${HEX}`, { domain: "test:5000", path: "repo", digest: `sha256:${HEX}` }],
    [`test:5000/repo:tag@sha256:${HEX}`, { domain: "test:5000", path: "repo", tag: "tag", digest: `sha256:${HEX}` }],
    ["lowercase:Uppercase", { domain: "docker.io", path: "library/lowercase", tag: "Uppercase" }],
    ["sub-dom1.foo.com/bar/baz/quux", { domain: "sub-dom1.foo.com", path: "bar/baz/quux" }],
    ["sub-dom1.foo.com/bar/baz/quux:some-long-tag", { domain: "sub-dom1.foo.com", path: "bar/baz/quux", tag: "some-long-tag" }],
    ["b.gcr.io/test.example.com/my-app:test.example.com", { domain: "b.gcr.io", path: "test.example.com/my-app", tag: "test.example.com" }],
    ["xn--n3h.com/myimage:xn--n3h.com", { domain: "xn--n3h.com", path: "myimage", tag: "xn--n3h.com" }],
    ["foo_bar.com:8080", { domain: "docker.io", path: "library/foo_bar.com", tag: "8080" }],
    ["foo/foo_bar.com:8080", { domain: "docker.io", path: "foo/foo_bar.com", tag: "8080" }],
    ["localhost/foo", { domain: "localhost", path: "foo" }],
    ["localhost:5000/foo/bar:1.0", { domain: "localhost:5000", path: "foo/bar", tag: "1.0" }],
    ["[2001:db8::1]:5000/repo", { domain: "[2001:db8::1]:5000", path: "repo" }],
    ["index.docker.io/library/redis", { domain: "docker.io", path: "library/redis" }],
    ["docker.io/redis", { domain: "docker.io", path: "library/redis" }],
    ["Foo.com/bar", { domain: "Foo.com", path: "bar" }],
    ["a__b/c--d/e.f", { domain: "docker.io", path: "a__b/c--d/e.f" }],
    [`app:${"t".repeat(128)}`, { domain: "docker.io", path: "library/app", tag: "t".repeat(128) }],
  ];
  it.each(cases)("%s", (input, expected) => {
    const ref = parseReference(input);
    expect({ domain: ref.domain, path: ref.path, tag: ref.tag, digest: ref.digest?.toString() }).toEqual({
      tag: undefined,
      digest: undefined,
      ...expected,
    });
  });
});

describe("parseReference: docker's error messages", () => {
  const cases: [string, string][] = [
    ["", "invalid reference format"],
    [":justtag", "invalid reference format"],
    [`@sha256:${HEX}`, "invalid reference format"],
    ["a:b:c", "invalid reference format"],
    ["aa/asdf$$^/aa", "invalid reference format"],
    ["-foo", "invalid reference format"],
    ["foo-", "invalid reference format"],
    ["foo/../bar", "invalid reference format"],
    [`app:${"t".repeat(129)}`, "invalid reference format"],
    ["app:-tag", "invalid reference format"],
    ["UPPER:tag", "invalid reference format: repository name (library/UPPER) must be lowercase"],
    ["Uppercase:tag", "invalid reference format: repository name (library/Uppercase) must be lowercase"],
    ["test:5000/Uppercase/lowercase:tag", "invalid reference format: repository name (Uppercase/lowercase) must be lowercase"],
    [`${"a/".repeat(128)}a:tag`, "repository name must not be more than 255 characters"],
    [`repo@sha256:${"f".repeat(34)}`, "invalid checksum digest length"],
    [`validname@invaliddigest:${HEX}`, "unsupported digest algorithm"],
    [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
  ];
  it.each(cases)("%j → %s", (input, message) => {
    expect(() => parseReference(input)).toThrow(InvalidReferenceError);
    expect(() => parseReference(input)).toThrow(new RegExp(`^${message.replace(/[()[\]$^.*+?]/g, "\\$&")}$`));
  });
});

describe("names as docker prints them", () => {
  it.each([
    ["redis", "docker.io/library/redis", "redis", "redis"],
    ["redis:7", "docker.io/library/redis", "redis", "redis:7"],
    ["docker.io/library/redis:7", "docker.io/library/redis", "redis", "redis:7"],
    ["fixtures/app:1.0", "docker.io/fixtures/app", "fixtures/app", "fixtures/app:1.0"],
    ["ghcr.io/org/app:v1", "ghcr.io/org/app", "ghcr.io/org/app", "ghcr.io/org/app:v1"],
    ["localhost:5000/library/app", "localhost:5000/library/app", "localhost:5000/library/app", "localhost:5000/library/app"],
    ["docker.io/library/a/b", "docker.io/library/a/b", "library/a/b", "library/a/b"],
  ])("%s", (input, normalized, familiar, familiarStr) => {
    const ref = parseReference(input);
    expect(normalizedName(ref)).toBe(normalized);
    expect(familiarName(ref)).toBe(familiar);
    expect(familiarString(ref)).toBe(familiarStr);
  });

  it("withDefaultTag adds latest only when there is neither tag nor digest", () => {
    expect(referenceString(withDefaultTag(parseReference("redis")))).toBe("docker.io/library/redis:latest");
    expect(familiarString(withDefaultTag(parseReference("redis:7")))).toBe("redis:7");
    expect(familiarString(withDefaultTag(parseReference(`redis@sha256:${HEX}`)))).toBe(`redis@sha256:${HEX}`);
  });
});

describe("matchReferencePattern (--filter reference=)", () => {
  it.each([
    ["redis", "redis:7", true],
    ["redis:7", "redis:7", true],
    ["redis:6", "redis:7", false],
    ["red*", "redis:7", true],
    ["*", "redis:latest", true],
    ["*", "fixtures/app:1.0", false],
    ["fixtures/*", "fixtures/app:1.0", true],
    ["fixtures/app:1.*", "fixtures/app:1.0", true],
    ["fixtures/app:1.*", "fixtures/app:2.0", false],
    ["*/*", "fixtures/app:1.0", true],
    ["busy*:*libc", "busybox:uclibc", true],
    ["busy*:*libc", "busybox:musl", false],
    ["app:[12].0", "app:2.0", true],
    ["app:[^12].0", "app:2.0", false],
    ["ghcr.io/org/*", "ghcr.io/org/app:v1", true],
    ["docker.io/library/redis", "redis:7", false],
  ])("%s vs %s → %s", (pattern, ref, expected) => {
    expect(matchReferencePattern(pattern, ref)).toBe(expected);
  });

  it("rejects malformed patterns like Go's path.Match", () => {
    expect(() => matchReferencePattern("app:[", "app:1")).toThrow("syntax error in pattern");
  });
});
