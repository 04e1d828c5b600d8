-- What a gzip layer blob uncompresses to (diff_id and size), learnt while it was uploaded to the
-- registry API, so the manifest that names it need not read the whole blob again. A fact about
-- content (keyed by its digest), so it never goes stale.
CREATE TABLE "layer_measures" (
    "blob" TEXT NOT NULL,
    "diff_id" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "measured_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "layer_measures_pkey" PRIMARY KEY ("blob")
);
