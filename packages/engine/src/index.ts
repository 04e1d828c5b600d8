// Public surface of the image engine. Keep it small: other packages import only from here.
export * from "./digest";
export * from "./errors";
export type * from "./blob-store";
export type * from "./metadata";
