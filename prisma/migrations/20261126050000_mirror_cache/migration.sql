-- What the pull-through mirror (`/v2/` used as a docker daemon's registry-mirrors entry) cached
-- from docker.io: one row per tag or digest a daemon asked for. The image itself is an ordinary
-- image with an ordinary tag; this row says where it came from, when and for whom it was last
-- pulled, and when its tag was last checked against upstream (the TTL revalidation).
CREATE TABLE "mirror_cache" (
    -- Normalised repository (`docker.io/library/redis`).
    "repository" TEXT NOT NULL,
    -- The tag or `sha256:…` digest the daemon asked for.
    "reference" TEXT NOT NULL,
    -- Not a foreign key: removing the image leaves a row that no longer matches, and the next request fills again.
    "image_id" TEXT NOT NULL,
    -- What upstream answered for the reference (the index digest for a multi-platform image).
    "upstream_digest" TEXT NOT NULL,
    "upstream" TEXT NOT NULL,
    "pulled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "checked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "pulled_by_id" UUID,
    "pulled_by_name" TEXT NOT NULL,

    CONSTRAINT "mirror_cache_pkey" PRIMARY KEY ("repository", "reference")
);

CREATE INDEX "mirror_cache_image_id_idx" ON "mirror_cache"("image_id");
