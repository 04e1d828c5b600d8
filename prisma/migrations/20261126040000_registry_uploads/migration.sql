-- Blob upload sessions of the registry API (`POST /v2/<name>/blobs/uploads/`). The bytes of each
-- chunk are a blob in the blob store (shared by every replica), so any replica can continue or
-- finish a session; abandoned sessions are removed with the chunks only they wrote.
CREATE TABLE "registry_uploads" (
    "id" UUID NOT NULL,
    -- The repository as named in the URL (`team-a/app`).
    "repository" TEXT NOT NULL,
    -- Not a foreign key: a session outlives nothing, and is cleaned up on its own.
    "user_id" UUID,
    -- [{ "digest": "sha256:…", "size": n, "created": bool }] in upload order; `created`: this session wrote the blob.
    "chunks" JSONB NOT NULL DEFAULT '[]',
    "size" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "registry_uploads_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "registry_uploads_updated_at_idx" ON "registry_uploads"("updated_at");
