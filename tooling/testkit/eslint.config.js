import base from "@berth/eslint-config/base";
export default base;
