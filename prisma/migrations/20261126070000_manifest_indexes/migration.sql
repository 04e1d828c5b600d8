-- Multi-platform images pushed to Berth's registry API (`docker buildx push`, `skopeo copy --all`,
-- `skopeo sync`): a manifest list or OCI index whose every child is an image in the store. The
-- index's bytes are a blob; this row and its children say what it holds, so the index can be
-- served again byte for byte and its images are kept while it is tagged.
CREATE TABLE "manifest_indexes" (
    "digest" TEXT NOT NULL,
    "media_type" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "manifest_indexes_pkey" PRIMARY KEY ("digest")
);

CREATE TABLE "manifest_index_children" (
    "index_digest" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    -- The child manifest's digest, as the index lists it.
    "manifest_digest" TEXT NOT NULL,
    -- The image it is: an image cannot go while an index still lists it.
    "image_id" TEXT NOT NULL,
    "platform" TEXT NOT NULL,

    CONSTRAINT "manifest_index_children_pkey" PRIMARY KEY ("index_digest", "position"),
    CONSTRAINT "manifest_index_children_index_fkey" FOREIGN KEY ("index_digest") REFERENCES "manifest_indexes"("digest") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "manifest_index_children_image_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

CREATE INDEX "manifest_index_children_image_id_idx" ON "manifest_index_children"("image_id");

-- A tag naming an index: `image_id` is the platform image the dashboard and `docker`-style verbs
-- show (linux/amd64 when there is one), `index_digest` what the registry API serves for the tag.
ALTER TABLE "tags" ADD COLUMN "index_digest" TEXT;
ALTER TABLE "tags" ADD CONSTRAINT "tags_index_digest_fkey" FOREIGN KEY ("index_digest") REFERENCES "manifest_indexes"("digest") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "tags_index_digest_idx" ON "tags"("index_digest");

-- Every manifest an image was pushed with. One image (one config) can arrive as an OCI manifest
-- and as a Docker one (`skopeo sync` of both forms of a tag); each is served by its digest, and an
-- index may list either.
CREATE TABLE "image_manifests" (
    "digest" TEXT NOT NULL,
    "image_id" TEXT NOT NULL,
    "media_type" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "image_manifests_pkey" PRIMARY KEY ("digest"),
    CONSTRAINT "image_manifests_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX "image_manifests_image_id_idx" ON "image_manifests"("image_id");

-- The manifest a tag was pushed with, when it was pushed to the registry API: the tag serves
-- those bytes (not another manifest of the same image). Cleared when the tag moves otherwise.
ALTER TABLE "tags" ADD COLUMN "manifest_digest" TEXT;
