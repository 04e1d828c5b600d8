// Public surface of the image engine. Keep it small: other packages import only from here.
export * from "./digest";
export * from "./errors";
export type * from "./blob-store";
export type * from "./metadata";

// Blob storage, image model and archives (docker save / OCI layout).
export { FsBlobStore } from "./fs-blob-store";
export * from "./media-types";
export * from "./image-model";
export { readArchive } from "./archive/read-archive";
export type { LoadedImage, ReadArchiveError, ReadArchiveOptions, ReadArchiveResult } from "./archive/read-archive";
export { writeArchive } from "./archive/write-archive";
export type { WriteArchiveOptions } from "./archive/write-archive";

// References, docker-style formatting, image operations, in-memory metadata store.
export * from "./reference";
export * from "./format";
export * from "./images";
export { MemoryMetadataStore } from "./memory-metadata-store";

// Registry client (OCI Distribution / Docker Registry HTTP API v2), pull side.
export { RegistryClient, DEFAULT_MANIFEST_ACCEPT } from "./registry/client";
export { warmTransferThread } from "./registry/transfer-thread";
export type { RegistryClientOptions, RequestOptions, ManifestOptions, Manifest, ManifestHead, PageOptions } from "./registry/client";
export type { FetchBlobOptions, FetchBlobResult } from "./registry/blob-fetch";
export { parseChallenge, type Challenge, type Credentials } from "./registry/auth";
export * from "./registry/errors";
export type { GetJsonOptions } from "./registry/client";
export * from "./registry/search";

// Pull (docker pull without the metadata store): mirrors, platform choice, verified layers.
export { pullImage } from "./pull/pull-image";
export type { PullImageOptions, PullImageResult, PullImageError } from "./pull/pull-image";
export type { Endpoint, EndpointResult } from "./pull/endpoints";
export { ContentError } from "./pull/endpoints";
export { NoMatchingPlatformError } from "./pull/platform";
export { BlobFlights, blobFlightsFor } from "./pull/blob-flights";
export { pullFinalStatus } from "./pull/progress";
export { measureStoredLayer, type LayerMeasure } from "./pull/layer-meter";
export { layerContent, type LayerContent } from "./layer-content";
export type { LayerStatus, PullLayerEvent, PullStatusEvent, PullProgressEvent } from "./pull/progress";

// Push (docker push without the metadata store): blob existence, cross-repository mounts, uploads, manifest last.
export { pushImage } from "./push/push-image";
export type { PushImageOptions, PushImageResult, PushedTag } from "./push/push-image";
export { resolvePushTargets, NoSuchTagToPushError, type PushTargets } from "./push/push-targets";
export { planManifest, type ManifestPlan } from "./push/manifest-plan";
export type { PushLayerStatus, PushLayerEvent, PushStatusEvent, PushProgressEvent } from "./push/progress";
export type { BlobSource, UploadOptions, UploadStart } from "./registry/upload";

// Build: Dockerfile parsing
export * from "./build/dockerfile/ast";
export { parseDockerfile, parseInstructionLine } from "./build/dockerfile/parse";
export { expandWord, expandWords, envFromList, type ExpandEnv } from "./build/dockerfile/expand";
export { applyConfigInstruction, applyConfigChanges } from "./build/config-changes";
export type { ConfigStepContext, ConfigStepResult } from "./build/config-changes";

// docker build without a daemon: build contexts (directory, uploaded tar, .dockerignore) and the step executor.
export * from "./build/context";
export * from "./build/executor";

// Layers written from entries, images stored from layers; docker import and commit without a daemon.
export type {
  LayerEntry,
  DeviceEntry,
  FileEntry,
  DirectoryEntry,
  SymlinkEntry,
  HardlinkEntry,
  WhiteoutEntry,
  WriteLayerOptions,
} from "./build/layer/entries";
export { writeLayer } from "./build/layer/layer-writer";
export { readImageFile, type ImageFile } from "./build/layer/image-file";
export { storeImage, saveImage, parseTargetTag } from "./build/store-image";
export type { StoreImageOptions, PreparedImage, TargetTag, SaveImageOptions, SavedImage } from "./build/store-image";
export { prepareImport, importImage, parsePlatformOption } from "./build/import-image";
export type { PrepareImportOptions, ImportImageOptions } from "./build/import-image";
export { prepareCommit, commitImage } from "./build/commit-image";
export type { PrepareCommitOptions, CommitImageOptions, CommitFile } from "./build/commit-image";
export { dockerfileOnlyContext } from "./build/dockerfile-context";
export { packContext } from "./build/pack-context";
