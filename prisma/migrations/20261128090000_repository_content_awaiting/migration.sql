-- A blob uploaded or mounted to a repository is in no image until its manifest arrives. Until then
-- (for a day at most: a push that never sends its manifest lets go) blob collection must not take
-- it: an rmi of another image with the same layer would otherwise delete it between the upload and
-- the manifest, and the push would fail. Set on upload and mount, cleared when a manifest names it.
ALTER TABLE "repository_content" ADD COLUMN "awaiting_manifest_since" TIMESTAMPTZ(3);

-- Uploads whose manifest never came are let go of (registry-api/repository-content.ts), found by this.
CREATE INDEX "repository_content_awaiting_idx" ON "repository_content"("awaiting_manifest_since")
  WHERE "awaiting_manifest_since" IS NOT NULL;
