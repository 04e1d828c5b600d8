export { runBuild } from "./run-build";
export type { BuildCache, BuildResult, BuiltStage, RunBuildOptions, RunStep, RunStepResult, StepRunner } from "./types";
export { MemoryBuildCache } from "./memory-cache";
export { noRuntimeStepRunner } from "./step-runner";
