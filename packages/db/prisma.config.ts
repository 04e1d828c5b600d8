import { defineConfig } from "prisma/config";

// Prisma only needs the schema location here: migrations are plain SQL applied by our own runner.
export default defineConfig({
  schema: "../../prisma/schema.prisma",
});
