import type { BlobStore } from "../../blob-store";
import type { Digest } from "../../digest";
import type { ImageConfig } from "../../image-model";
import type { TagPolicy } from "../../images/tag-policy";
import type { ImageRecord, LayerRecord, MetadataStore } from "../../metadata";
import type { BuildContext } from "../context/types";
import type { CommandInstruction } from "../dockerfile/ast";
import type { LayerEntry } from "../layer/entries";

/**
 * The classic builder's cache: step key → the image that step produced. A hit is used only
 * while the image is still in the store. The api keeps one in PostgreSQL; MemoryBuildCache is
 * for tests and one-off builds.
 */
export interface BuildCache {
  get(key: string): Promise<Digest | undefined>;
  put(key: string, imageId: Digest): Promise<void>;
}

/** What a RUN step runs in and with. */
export interface RunStep {
  /** The RUN instruction (line, original text, heredocs). */
  instruction: CommandInstruction;
  /** argv to execute: the exec form as given, or the shell (SHELL, default /bin/sh -c) plus the command. */
  argv: string[];
  /** Environment: the image's Env, then the build args in scope (Env wins, like docker). */
  env: string[];
  /** Build args in scope, for the runner's own use (e.g. proxies). */
  buildArgs: Record<string, string>;
  user: string;
  workingDir: string;
  /** The image the command runs in: config and layers (blobs in `store`). */
  config: ImageConfig;
  layers: LayerRecord[];
  store: BlobStore;
  /** Output lines of the command, streamed to the build log. */
  onOutput: (line: string) => void;
  signal?: AbortSignal;
}

export interface RunStepResult {
  /**
   * The changes the command made to the filesystem, as layer entries (WhiteoutEntry for what it
   * deleted). Empty: the step records an empty layer.
   */
  entries: Iterable<LayerEntry> | AsyncIterable<LayerEntry>;
}

/** Runs RUN steps: a sandboxed runner plugs in here. The default refuses (Berth has no container runtime). */
export interface StepRunner {
  run(step: RunStep): Promise<RunStepResult>;
}

export interface RunBuildOptions {
  store: BlobStore;
  meta: MetadataStore;
  context: BuildContext;
  /** Dockerfile text; when absent it is read from the context at dockerfilePath. */
  dockerfile?: string;
  /** Path of the Dockerfile in the context. Default "Dockerfile". */
  dockerfilePath?: string;
  /** `name[:tag]` references applied to the final image after "Successfully built". */
  tags?: string[];
  /** Asked before a tag that names another image is moved (tag protection); every tag is checked before any is set. */
  tagPolicy?: TagPolicy;
  /** --build-arg K=V. A key with value undefined takes the value from nowhere (it stays unset). */
  buildArgs?: Record<string, string | undefined>;
  /** --target: the stage to build (name or index); default the last. */
  target?: string;
  noCache?: boolean;
  /** --label K=V, added to the final image as LABEL steps, like the classic builder. */
  labels?: Record<string, string>;
  /** --platform, e.g. "linux/arm64" (default linux/amd64, or the base image's). */
  platform?: string;
  cache: BuildCache;
  /** Finds (pulling through the mirrors if need be) a base image or a `COPY --from` image. "scratch" never gets here. */
  resolveBaseImage: (ref: string, platform: string | undefined, signal?: AbortSignal) => Promise<ImageRecord>;
  runStep?: StepRunner;
  /** SOURCE_DATE_EPOCH (seconds): created times and file mtimes (clamped) for reproducible images. */
  sourceDateEpoch?: number;
  /** Each line of docker's classic output, as it happens, without a trailing newline. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Runs each step's cache lookup, blob writes and image record inside the caller's lock (the
   * api's shared blob lock), so a collection never deletes a blob between its write (or a cache
   * hit on it) and the image row that names it. Never holds base image resolution.
   */
  guardWrites?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Where temporary files go (ADD archives, COPY --from contents). Default: the OS temp directory. */
  tmpDir?: string;
}

export interface BuiltStage {
  index: number;
  name?: string;
  imageId: Digest | null;
}

export interface BuildResult {
  /** The final image. */
  image: ImageRecord;
  /** Tags applied, as `familiar:tag` strings. */
  tags: string[];
  /** Steps run and steps taken from the cache. */
  steps: number;
  cachedSteps: number;
  stages: BuiltStage[];
}
