import path from "node:path";
import { z } from "zod";

/** Server settings from the environment, validated once. The only place that reads process.env. */
const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOSTNAME: z.string().default("0.0.0.0"),
  BERTH_DATA_DIR: z.string().default("./data"),
  BERTH_BLOB_DIR: z.string().optional(),
  DATABASE_URL: z.string().url().optional(),
  BERTH_ADMIN_PASSWORD: z.string().min(8, "BERTH_ADMIN_PASSWORD must be at least 8 characters").optional(),
  /** Seals registry passwords; base64 of 32 bytes. Absent: `<data dir>/secret.key`, created once. */
  BERTH_SECRET_KEY: z.string().optional(),
  /** Seconds a tag cached by the pull-through mirror is served before upstream is asked whether it moved. */
  BERTH_MIRROR_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
  /** Gzip layers pushed to /v2/ up to this many bytes are checked before the push is answered; bigger ones by a job just after. */
  BERTH_LAYER_CHECK_INLINE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(16 * 1024 * 1024),
});

export type ServerEnv = z.infer<typeof schema> & { dataDir: string; blobDir: string };

// eslint-disable-next-line no-restricted-properties -- this file is where settings are read
export function readServerEnv(env: Record<string, string | undefined> = process.env): ServerEnv {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid settings: ${problems}`);
  }
  // Relative paths are taken from where the person ran the command: `pnpm start` runs the
  // server inside apps/web, and pnpm reports the original directory as INIT_CWD.
  const base = cleaned.INIT_CWD ?? process.cwd();
  const dataDir = path.resolve(base, parsed.data.BERTH_DATA_DIR);
  const blobDir = path.resolve(base, parsed.data.BERTH_BLOB_DIR ?? path.join(dataDir, "blobs"));
  return { ...parsed.data, dataDir, blobDir };
}
