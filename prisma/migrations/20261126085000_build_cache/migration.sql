-- The build cache: one row per build step that produced an image, keyed by what decides its result
-- (parent image, the instruction as expanded, the digest of the files it read). A hit is used only
-- while the image still exists, so removing images needs no cleanup here.
CREATE TABLE "build_cache" (
    "key" TEXT NOT NULL,
    "image_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "build_cache_pkey" PRIMARY KEY ("key")
);

-- Builds are jobs too.
ALTER TABLE "jobs" DROP CONSTRAINT "jobs_kind_check";
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_kind_check" CHECK ("kind" IN ('pull', 'push', 'build'));
