import type { BlobStore } from "../blob-store";
import { markStruct } from "../format/go-value";
import type { ImageRecord, MetadataStore } from "../metadata";
import { type ConfigFields, type ContainerConfigFields, readConfig } from "./config-fields";
import { repoDigests, tagFamiliarString } from "./graph";
import { resolveImage } from "./resolve";

/** docker's container.Config as `docker image inspect` prints it (key order and nulls included). */
export interface InspectContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: unknown;
  ArgsEscaped?: boolean;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild: string[] | null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[];
}

/** The object `docker image inspect` prints for one image. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: InspectContainerConfig | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  RootFS: { Type: string; Layers?: string[] };
  Metadata: { LastTagTime: string };
}

export interface InspectImageOptions {
  meta: MetadataStore;
  blobs: BlobStore;
  ref: string;
}

/** Go's zero time.Time as JSON. */
export const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * Reformats an RFC 3339 timestamp the way Go re-marshals it (time.RFC3339Nano): fractional
 * seconds without trailing zeros, `Z` for a zero offset, nanosecond precision kept.
 */
export function toRFC3339Nano(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(value);
  if (!m) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? value : dateToRFC3339Nano(d);
  }
  const frac = (m[3] ?? "").slice(0, 10).replace(/\.?0+$/, "");
  const zone = m[4] === "z" || m[4] === "Z" || m[4] === "+00:00" || m[4] === "-00:00" ? "Z" : (m[4] ?? "Z");
  return `${m[1]}T${m[2]}${frac}${zone}`;
}

export function dateToRFC3339Nano(d: Date): string {
  const iso = d.toISOString();
  const frac = iso.slice(19, 23).replace(/\.?0+$/, "");
  return `${iso.slice(0, 19)}${frac}Z`;
}

function containerConfig(c: ContainerConfigFields | null | undefined): InspectContainerConfig | null {
  if (!c) return null;
  const out: Record<string, unknown> = {
    Hostname: c.Hostname ?? "",
    Domainname: c.Domainname ?? "",
    User: c.User ?? "",
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) out.ExposedPorts = c.ExposedPorts;
  Object.assign(out, {
    Tty: c.Tty ?? false,
    OpenStdin: c.OpenStdin ?? false,
    StdinOnce: c.StdinOnce ?? false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
  });
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, {
    Image: c.Image ?? "",
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? "",
    Entrypoint: c.Entrypoint ?? null,
  });
  if (c.NetworkDisabled) out.NetworkDisabled = true;
  if (c.MacAddress) out.MacAddress = c.MacAddress;
  Object.assign(out, { OnBuild: c.OnBuild ?? null, Labels: c.Labels ?? null });
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.StopTimeout !== undefined && c.StopTimeout !== null) out.StopTimeout = c.StopTimeout;
  if (c.Shell && c.Shell.length > 0) out.Shell = c.Shell;
  return markStruct(out, "*container.Config") as unknown as InspectContainerConfig;
}

/** Builds the inspect object from a record, its tags and its parsed config. */
export function buildImageInspect(
  image: ImageRecord,
  tags: readonly { repository: string; tag: string }[],
  config: ConfigFields,
): ImageInspect {
  const tagRecords = tags.map((t) => ({ ...t, imageId: image.id, updatedAt: new Date(0) }));
  const inspect: Record<string, unknown> = {
    Id: image.id.toString(),
    RepoTags: tags.map(tagFamiliarString).sort(),
    RepoDigests: repoDigests(image, tagRecords),
    Parent: image.parentId ? image.parentId.toString() : "",
    Comment: config.comment ?? "",
    Created: config.created ? toRFC3339Nano(config.created) : image.created ? dateToRFC3339Nano(image.created) : "",
    DockerVersion: config.docker_version ?? "",
    Author: config.author ?? "",
    Config: containerConfig(config.config),
    Architecture: config.architecture ?? image.architecture,
  };
  const variant = config.variant ?? image.variant ?? "";
  if (variant) inspect.Variant = variant;
  inspect.Os = config.os ?? image.os;
  if (config["os.version"]) inspect.OsVersion = config["os.version"];
  inspect.Size = image.size;
  const layers = config.rootfs?.diff_ids ?? image.layers.map((l) => l.diffId.toString());
  inspect.RootFS = markStruct(
    layers.length > 0 ? { Type: config.rootfs?.type ?? "layers", Layers: layers } : { Type: config.rootfs?.type ?? "layers" },
    "image.RootFS",
  );
  inspect.Metadata = markStruct({ LastTagTime: image.lastTagTime ? dateToRFC3339Nano(image.lastTagTime) : GO_ZERO_TIME }, "image.Metadata");
  return markStruct(inspect, "image.InspectResponse") as unknown as ImageInspect;
}

/** `docker image inspect <ref>`: the same keys, order and values docker prints. */
export async function inspectImage({ meta, blobs, ref }: InspectImageOptions): Promise<ImageInspect> {
  const image = await resolveImage({ meta, ref });
  const [tags, config] = await Promise.all([meta.listTags({ imageId: image.id }), readConfig(blobs, image.id)]);
  return buildImageInspect(image, tags, config);
}
