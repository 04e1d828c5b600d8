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
