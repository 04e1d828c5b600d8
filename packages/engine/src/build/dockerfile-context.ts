import { Readable } from "node:stream";
import tar from "tar-stream";

/**
 * A build context holding only a Dockerfile, as a tar (what `docker build - < Dockerfile` sends
 * and the dashboard's "paste a Dockerfile" builds from).
 */
export function dockerfileOnlyContext(dockerfile: string, mtime = new Date(0)): Readable {
  const pack = tar.pack();
  pack.entry({ name: "Dockerfile", mode: 0o644, mtime }, dockerfile);
  pack.finalize();
  return Readable.from(pack);
}
