import type { BlobStore } from "../blob-store";
import type { Digest } from "../digest";
import { InvalidArgumentError } from "../errors";

/** Largest image config read into memory. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** The fields of an OCI/Docker image config that inspect and history read. */
export interface ConfigFields {
  created?: string;
  author?: string;
  architecture?: string;
  variant?: string;
  os?: string;
  "os.version"?: string;
  comment?: string;
  docker_version?: string;
  config?: ContainerConfigFields | null;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: HistoryFields[];
}

export interface ContainerConfigFields {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: unknown;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[] | null;
}

export interface HistoryFields {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** Reads and parses an image's config blob (its ID is the config digest). */
export async function readConfig(blobs: BlobStore, id: Digest): Promise<ConfigFields> {
  const raw = await blobs.read(id, MAX_CONFIG_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new InvalidArgumentError(`image config ${id.toString()} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`image config ${id.toString()} is not a JSON object`);
  }
  return parsed;
}
