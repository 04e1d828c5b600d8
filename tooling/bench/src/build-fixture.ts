/**
 * The build benchmark's input: a 20-instruction, 3-stage Dockerfile without RUN (Berth has no
 * container runtime) and a generated context shaped like a web app's: a vendor tree of a few
 * thousand small text files, a source tree of a few hundred, and assets of a few MiB each (half
 * incompressible, like images and wasm; half text, like source maps).
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { mulberry32 } from "./prng";

/**
 * deps (4) + build (4) + final (12) = 20 instructions, 20 steps. Every step but the three FROMs
 * can come from the cache. VENDOR_DIR is passed as a build arg, as CI scripts do.
 */
export const DOCKERFILE = `# 20 instructions in 3 stages; no RUN: Berth builds without a container runtime.
FROM scratch AS deps
ARG VENDOR_DIR=vendor
COPY \${VENDOR_DIR}/ /deps/node_modules/
COPY assets/ /deps/assets/

FROM scratch AS build
WORKDIR /src
COPY --from=deps /deps/ ./
COPY src/ ./src/

FROM scratch
COPY --from=build /src/ /app/
ENV NODE_ENV=production APP_HOME=/app
LABEL org.opencontainers.image.title="berth-bench" org.opencontainers.image.version="1.0"
WORKDIR /app
USER 1000:1000
EXPOSE 8080/tcp
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=3s CMD ["/app/bin/healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/bin/server"]
CMD ["--port", "8080"]
`;

export const INSTRUCTIONS = DOCKERFILE.split("\n").filter((l) => /^[A-Z]+\s/.test(l)).length;
/** The step the "one source file changed" rebuild invalidates first: it and every later non-FROM step run again. */
export const SOURCE_STEP = "COPY src/ ./src/";
/** The source file the partial rebuild changes. */
export const CHANGED_FILE = "src/app/routes/route-007.ts";

const MiB = 1024 * 1024;
const VENDOR_PACKAGES = 150;
const FILES_PER_PACKAGE = 20;
const SOURCE_FILES = 240;
const ASSET_BYTES = 4 * MiB;

export interface GeneratedContext {
  files: number;
  bytes: number;
  /** Files .dockerignore leaves out (not sent, not counted above). */
  ignored: number;
}

/** Code-like text that gzip shrinks about as much as real JavaScript (a 4–5× ratio). */
function corpus(bytes: number, random: () => number): Buffer {
  const words = ["const", "return", "function", "export", "import", "await", "value", "result", "options", "index", "length", "props"];
  const names = Array.from({ length: 400 }, (_, i) => `${words[i % words.length]}${Math.floor(random() * 1e6).toString(36)}`);
  const pick = () => names[Math.floor(random() * names.length)]!;
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = `  ${pick()} = ${pick()}(${pick()}, ${Math.floor(random() * 1000)}) ?? ${pick()}.${pick()};\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(""));
}

/** Writes the Dockerfile and a context of about `totalMb` MiB into `dir`. */
export async function makeBuildContext(dir: string, totalMb: number): Promise<GeneratedContext> {
  // Seeded by the size: the same text files (names, sizes, contents) in every run of the bench.
  const random = mulberry32(totalMb);
  const total = totalMb * MiB;
  const text = corpus(256 * 1024, random);
  let files = 0;
  let bytes = 0;
  const pending: Promise<void>[] = [];
  const put = async (rel: string, data: Buffer | string) => {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
  };
  const add = async (rel: string, data: Buffer | string) => {
    files++;
    bytes += Buffer.byteLength(data);
    pending.push(put(rel, data));
    // A few dozen writes in flight: fast, without thousands of open files.
    if (pending.length >= 64) await Promise.all(pending.splice(0));
  };
  const textFile = (rel: string, size: number) => {
    const start = Math.floor(random() * (text.length - size));
    return Buffer.concat([Buffer.from(`// ${rel}\n`), text.subarray(Math.max(0, start), Math.max(0, start) + size)]);
  };
  const jitter = (mean: number) => Math.max(64, Math.round(mean * (0.5 + random())));

  await add("Dockerfile", DOCKERFILE);
  await add(".dockerignore", "**/*.log\ntmp/\n");
  await add("package.json", JSON.stringify({ name: "bench-app", version: "1.0.0", private: true }, null, 2));

  // ~22% in the vendor tree: a few thousand small files.
  const vendorMean = (total * 0.22) / (VENDOR_PACKAGES * FILES_PER_PACKAGE);
  for (let p = 0; p < VENDOR_PACKAGES; p++) {
    const pkg = `vendor/pkg-${String(p).padStart(3, "0")}`;
    await add(`${pkg}/package.json`, JSON.stringify({ name: `pkg-${p}`, version: `1.${p}.0`, main: "index.js" }, null, 2));
    await add(`${pkg}/README.md`, textFile(`${pkg}/README.md`, jitter(vendorMean)));
    await add(`${pkg}/index.js`, textFile(`${pkg}/index.js`, jitter(vendorMean)));
    for (let f = 0; f < FILES_PER_PACKAGE - 3; f++) {
      const rel = `${pkg}/lib/${f % 3 === 0 ? "internal/" : ""}mod-${f}.js`;
      await add(rel, textFile(rel, jitter(vendorMean)));
    }
  }
  // ~3% in sources.
  const sourceMean = (total * 0.03) / SOURCE_FILES;
  for (let f = 0; f < SOURCE_FILES; f++) {
    const folder = f < 40 ? "app/routes/route" : f < 140 ? "app/components/component" : "lib/module";
    const n = f < 40 ? f : f < 140 ? f - 40 : f - 140;
    const rel = `src/${folder}-${String(n).padStart(3, "0")}.ts`;
    await add(rel, textFile(rel, jitter(sourceMean)));
  }
  // The rest in assets of a few MiB each.
  let left = total - bytes;
  for (let a = 0; left > 0; a++) {
    const size = Math.min(ASSET_BYTES, left);
    const binary = a % 2 === 0;
    const rel = binary ? `assets/bundle-${a}.wasm` : `assets/bundle-${a}.js.map`;
    const data = binary
      ? randomBytes(size)
      : Buffer.concat(Array.from({ length: Math.ceil(size / text.length) }, () => text)).subarray(0, size);
    await add(rel, data);
    left -= size;
  }
  await Promise.all(pending.splice(0));

  // What .dockerignore keeps out of the upload.
  for (let i = 0; i < 20; i++) await put(`tmp/cache-${i}.bin`, randomBytes(16 * 1024));
  for (let i = 0; i < 5; i++) await put(`src/debug-${i}.log`, textFile(`src/debug-${i}.log`, 8 * 1024));
  return { files, bytes, ignored: 25 };
}

/** A new content for the changed source file, different each round (so no round finds the previous one cached). */
export async function changeSource(dir: string, round: number): Promise<void> {
  await writeFile(path.join(dir, CHANGED_FILE), `// ${CHANGED_FILE}, edited (round ${round})\nexport const route = ${round};\n`);
}
