import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import type { BuildContext } from "./context/types";

/**
 * A build context as the tar `docker build` uploads: every entry the context shows (so
 * .dockerignore is already applied), parents first, plus the Dockerfile and .dockerignore
 * themselves, which docker always sends. Files are streamed one at a time.
 */
export function packContext(context: BuildContext, options: { alwaysInclude?: string[]; extra?: Record<string, Buffer> } = {}): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  const run = async () => {
    const seen = new Set<string>();
    for await (const entry of context.walk()) {
      seen.add(entry.path);
      const header = { name: entry.path, mode: entry.mode, mtime: entry.mtime, uid: 0, gid: 0 };
      if (entry.type === "directory") pack.entry({ ...header, type: "directory" });
      else if (entry.type === "symlink") pack.entry({ ...header, type: "symlink", linkname: entry.target ?? "" });
      else {
        const sink = pack.entry({ ...header, type: "file", size: entry.size });
        await pipeline(await context.open(entry.path), sink);
      }
    }
    for (const path of options.alwaysInclude ?? []) {
      if (seen.has(path)) continue;
      const data = await context.readRaw(path, 16 * 1024 * 1024);
      if (data) pack.entry({ name: path, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, data);
    }
    // A Dockerfile from outside the context travels under a name of its own.
    for (const [path, data] of Object.entries(options.extra ?? {})) {
      pack.entry({ name: path, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, data);
    }
    pack.finalize();
  };
  pack.pipe(out);
  run().catch((err: unknown) => out.destroy(err as Error));
  return out;
}
