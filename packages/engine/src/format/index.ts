export * from "./docker-format";
export { formatGoValue, goJson, markStruct, formatRFC3339Nano } from "./go-value";
export { goSprintf } from "./printf";
export * from "./table";
export {
  DOCKER_FUNCS,
  DOCKER_HEADER_FUNCS,
  GO_BUILTINS,
  Template,
  TemplateError,
  executeTemplate,
  parseTemplate,
  type FuncMap,
  type TemplateFunc,
} from "./template";
export * from "./units";
