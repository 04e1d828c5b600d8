import base from "@berth/eslint-config/base";
// bin/ holds the plain-JS shim that starts the TypeScript sources through tsx.
export default [...base, { ignores: ["bin/**"] }];
