// Shared, type-aware lint rules for every TypeScript package.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/.next/**", "**/generated/**", "**/*.config.*"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["warn", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read settings through env.ts" }],
    },
  },
  {
    // Tests and scripts set up their own processes; the env.ts rule is for application code.
    files: ["**/test/**", "**/e2e/**", "**/*.test.ts"],
    rules: { "no-restricted-properties": "off" },
  },
);
