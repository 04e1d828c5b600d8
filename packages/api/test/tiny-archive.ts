import { createHash } from "node:crypto";
import { pack } from "tar-stream";

function tarOf(entries: { name: string; body: Buffer }[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) p.entry({ name: e.name, mtime: new Date(0) }, e.body);
  p.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    p.on("data", (c: unknown) => chunks.push(c as Buffer));
    p.on("end", () => resolve(Buffer.concat(chunks)));
    p.on("error", reject);
  });
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/**
 * A real `docker save` archive of a one-layer image a few KB large, named `repoTags`: small
 * enough that a server refusing it before reading the body cannot cut the upload short.
 */
export async function tinyArchive(repoTags: string[], content = "hello"): Promise<Buffer> {
  const layer = await tarOf([{ name: "hello.txt", body: Buffer.from(content) }]);
  const diffId = `sha256:${sha256(layer)}`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      created: "2024-01-01T00:00:00Z",
      config: {},
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created: "2024-01-01T00:00:00Z", created_by: "COPY hello.txt /" }],
    }),
  );
  const configName = `${sha256(config)}.json`;
  const layerName = `${sha256(layer)}/layer.tar`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: repoTags, Layers: [layerName] }]));
  return tarOf([
    { name: configName, body: config },
    { name: layerName, body: layer },
    { name: "manifest.json", body: manifest },
  ]);
}
