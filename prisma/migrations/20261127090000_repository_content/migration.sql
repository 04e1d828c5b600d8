-- Which repository each blob or manifest was pushed to through /v2/ (uploaded, mounted, or a
-- manifest pushed by digest). Blobs are stored once for the whole store, but /v2/<name>/ serves
-- only what that repository holds: these rows, and what its tags, mirror fills and artifacts name.
CREATE TABLE "repository_content" (
    "repository" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "repository_content_pkey" PRIMARY KEY ("repository","digest")
);

CREATE INDEX "repository_content_digest_idx" ON "repository_content"("digest");
