// For vitest's `globalSetup` option, which takes a file: one PostgreSQL server per test run.
export { globalSetup as default } from "./index";
