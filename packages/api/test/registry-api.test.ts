/**
 * Berth as a registry, driven by a real client: skopeo pushes fixtures into Berth with a
 * password or an API token, inspects and lists them, and copies them back out byte for byte.
 * What arrives is an ordinary image of Berth (listed, audited under the person who pushed).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "@berth/fixtures";
import { bootTestServer, type TestServer } from "../src/testing";
import { skopeo } from "./skopeo";
import { apiClient, uploadArchive } from "./client";

const fx = fixtures();

let server: TestServer;
let host: string;
let token: string;
let dir: string;

const adminCreds = () => `admin:${server.adminPassword}`;

beforeAll(async () => {
  server = await bootTestServer();
  host = new URL(server.url).host;
  token = await server.token();
  dir = mkdtempSync(path.join(tmpdir(), "berth-registry-api-"));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("skopeo against Berth's /v2/", () => {
  it("pushes an OCI image with a password; skopeo inspects it with the same digest and Berth lists it", async () => {
    const app = fx.images.find((i) => i.ref === "fixtures/app:1.0")!;
    await skopeo(
      "copy",
      `oci:${fx.layout}:fixtures/app:1.0`,
      `docker://${host}/team-a/app:1.0`,
      "--dest-creds",
      adminCreds(),
      "--dest-tls-verify=false",
    );
    const inspected = JSON.parse(
      await skopeo("inspect", "--tls-verify=false", "--creds", adminCreds(), `docker://${host}/team-a/app:1.0`),
    ) as {
      Digest: string;
      Layers: string[];
    };
    expect(inspected.Digest).toBe(app.ociDigest);
    expect(inspected.Layers).toEqual(fx.image("fixtures/app:1.0").layers.map((l) => l.digest));

    const images = await apiClient(server.url, token).images.list.query();
    expect(images.some((i) => i.repository === "team-a/app" && i.tag === "1.0" && i.id === app.configDigest)).toBe(true);

    const events = await server.services.db.auditEvent.findMany({ where: { action: "image.push", result: "ok" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorName: "admin", interface: "registry" });
    expect(events[0]!.targets).toEqual([{ ref: "team-a/app:1.0", digestBefore: null, digestAfter: app.configDigest }]);
  });

  it("pushes a second image sharing a layer with an API token as the password, and lists both tags", async () => {
    await skopeo(
      "copy",
      `oci:${fx.layout}:fixtures/app:2.0`,
      `docker://${host}/team-a/app:2.0`,
      "--dest-creds",
      `admin:${token}`,
      "--dest-tls-verify=false",
    );
    const tags = JSON.parse(
      await skopeo("list-tags", "--tls-verify=false", "--creds", `admin:${token}`, `docker://${host}/team-a/app`),
    ) as {
      Tags: string[];
    };
    expect(tags.Tags).toEqual(["1.0", "2.0"]);
  });

  it("copies an image back out to an OCI layout with the digest it was pushed with", async () => {
    const out = path.join(dir, "back");
    await skopeo("copy", "--src-tls-verify=false", "--src-creds", adminCreds(), `docker://${host}/team-a/app:2.0`, `oci:${out}:back`);
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests[0]!.digest).toBe(fx.images.find((i) => i.ref === "fixtures/app:2.0")!.ociDigest);
  });

  it("serves an image loaded from a docker archive (no stored manifest) with the manifest a push would build", async () => {
    const loaded = await uploadArchive(server.url, token, readFileSync(path.join(fx.archives, "base-1.0.tar")), "base-1.0.tar");
    expect(loaded.status).toBe(200);
    await apiClient(server.url, token).images.tag.mutate({ source: "fixtures/base:1.0", target: "team-b/base:1.0" });
    const raw = await skopeo("inspect", "--raw", "--tls-verify=false", "--creds", adminCreds(), `docker://${host}/team-b/base:1.0`);
    const manifest = JSON.parse(raw) as { config: { digest: string }; layers: { digest: string }[] };
    expect(manifest.config.digest).toBe(fx.image("fixtures/base:1.0").configDigest);
    const out = path.join(dir, "base");
    await skopeo("copy", "--src-tls-verify=false", "--src-creds", adminCreds(), `docker://${host}/team-b/base:1.0`, `oci:${out}:base`);
    const config = JSON.parse(await skopeo("inspect", "--config", `oci:${out}:base`)) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(fx.image("fixtures/base:1.0").layers.map((l) => l.diffID));
  });

  it("pushes a docker archive with a robot token scoped to its namespace; the audit names the robot and its creator", async () => {
    const api = apiClient(server.url, token);
    const robot = await api.tokens.createRobot.mutate({ name: "ci", namespaces: ["team-c"], actions: ["pull", "push"] });
    const archive = path.join(fx.archives, "app-1.0.tar");
    await skopeo(
      "copy",
      `docker-archive:${archive}`,
      `docker://${host}/team-c/app:ci`,
      "--dest-creds",
      `ci:${robot.token}`,
      "--dest-tls-verify=false",
    );
    const inspected = JSON.parse(
      await skopeo("inspect", "--config", "--tls-verify=false", "--creds", `ci:${robot.token}`, `docker://${host}/team-c/app:ci`),
    ) as {
      rootfs: { diff_ids: string[] };
    };
    expect(inspected.rootfs.diff_ids).toEqual(fx.image("fixtures/app:1.0").layers.map((l) => l.diffID));
    const [event] = await server.services.db.auditEvent.findMany({ where: { action: "image.push", actorName: "robot:ci" } });
    expect(event).toMatchObject({ interface: "registry", result: "ok", details: { robot: { createdBy: "admin" } } });
    // Outside its namespaces the robot is refused.
    await expect(
      skopeo(
        "copy",
        `docker-archive:${archive}`,
        `docker://${host}/team-a/robot:ci`,
        "--dest-creds",
        `ci:${robot.token}`,
        "--dest-tls-verify=false",
      ),
    ).rejects.toThrow(/denied|forbidden/i);
  });

  it("skopeo delete removes the tag, audited under the person", async () => {
    await skopeo(
      "copy",
      `oci:${fx.layout}:fixtures/base:1.0`,
      `docker://${host}/team-a/gone:1.0`,
      "--dest-creds",
      adminCreds(),
      "--dest-tls-verify=false",
    );
    await skopeo("delete", "--tls-verify=false", "--creds", adminCreds(), `docker://${host}/team-a/gone:1.0`);
    await expect(skopeo("inspect", "--tls-verify=false", "--creds", adminCreds(), `docker://${host}/team-a/gone:1.0`)).rejects.toThrow(
      /manifest unknown/i,
    );
    const events = await server.services.db.auditEvent.findMany({ where: { action: "image.remove", interface: "registry", result: "ok" } });
    expect(events.map((e) => e.actorName)).toEqual(["admin"]);
  });

  it("copies this platform's image out of a multi-platform index (skopeo without --all)", async () => {
    const multi = fx.images.find((i) => i.ref === "fixtures/multi:1.0-linux-amd64")!;
    await skopeo(
      "copy",
      `oci:${fx.layout}:fixtures/multi:1.0`,
      `docker://${host}/team-a/multi:1.0`,
      "--override-arch",
      "amd64",
      "--dest-creds",
      adminCreds(),
      "--dest-tls-verify=false",
    );
    const inspected = JSON.parse(
      await skopeo("inspect", "--tls-verify=false", "--creds", adminCreds(), `docker://${host}/team-a/multi:1.0`),
    ) as { Digest: string };
    expect(inspected.Digest).toBe(multi.ociDigest);
  });

  it("refuses a wrong password", async () => {
    await expect(skopeo("inspect", "--tls-verify=false", "--creds", "admin:wrong", `docker://${host}/team-a/app:1.0`)).rejects.toThrow(
      /incorrect username or password|unauthorized/i,
    );
  });
});
