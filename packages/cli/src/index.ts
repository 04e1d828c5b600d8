export { run, buildProgram } from "./program";
export { createRuntime, type Runtime } from "./runtime";
export { createApi, type BerthApi } from "./api";
