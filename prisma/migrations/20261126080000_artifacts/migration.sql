-- Manifests pushed to the registry API that are not container images: signatures, SBOMs,
-- attestations, Helm charts (OCI 1.1 artifacts, `oras push`, `cosign`). They are kept byte for
-- byte and served as pushed, listed by the referrers API when they have a subject, and keep the
-- blobs they name from being collected. They are not images: no dashboard row, no prune.
CREATE TABLE "artifacts" (
    "repository" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "media_type" TEXT NOT NULL,
    -- `artifactType`, else the config's media type (as the referrers API reports it).
    "artifact_type" TEXT NOT NULL,
    -- The manifest this one refers to (`subject`), for the referrers API.
    "subject" TEXT,
    "size" INTEGER NOT NULL,
    -- Config and layer blobs: kept while the artifact is.
    "blobs" TEXT[] NOT NULL,
    "annotations" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifacts_pkey" PRIMARY KEY ("repository", "digest")
);

CREATE INDEX "artifacts_repository_subject_idx" ON "artifacts"("repository", "subject");
CREATE INDEX "artifacts_digest_idx" ON "artifacts"("digest");
CREATE INDEX "artifacts_blobs_idx" ON "artifacts" USING GIN ("blobs");

-- Tags naming artifacts (cosign's `sha256-<hex>.sig`, `oras push repo:tag`). A tag names an image
-- (tags) or an artifact (here), never both: an image pushed under the name replaces the artifact's
-- tag; an artifact is refused a name an image has (removing an image's tag is an rmi, with its rules).
CREATE TABLE "artifact_tags" (
    "repository" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifact_tags_pkey" PRIMARY KEY ("repository", "tag"),
    CONSTRAINT "artifact_tags_artifact_fkey" FOREIGN KEY ("repository", "digest") REFERENCES "artifacts"("repository", "digest") ON DELETE CASCADE ON UPDATE CASCADE
);
