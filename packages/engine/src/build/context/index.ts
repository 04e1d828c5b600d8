export type { BuildContext, ContextEntry, ContextOptions } from "./types";
export { DEFAULT_MAX_CONTEXT_BYTES } from "./types";
export { ContextPathError, ContextTooLargeError, InvalidContextError } from "./errors";
export { openDirectoryContext } from "./directory-context";
export { openTarContext, type TarContextOptions } from "./tar-context";
export { parseDockerignore, type IgnoreMatcher } from "./dockerignore";
export { matchSources, walkDirectory, type MatchedSource } from "./sources";
export { cleanContextPath, hasWildcard } from "./paths";
