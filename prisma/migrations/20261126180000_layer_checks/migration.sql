-- Big gzip layers pushed through /v2/ are checked after their manifest is accepted, by a job of
-- kind 'layer-check' (any replica runs it): until then a layer row holds the diff_id its config
-- claims and the blob's size, and `checked` is false. A layer that turns out not to match its
-- config leaves the reason on the image (`problem`).
ALTER TABLE "image_layers" ADD COLUMN "checked" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "images" ADD COLUMN "problem" TEXT;

ALTER TABLE "jobs" DROP CONSTRAINT "jobs_kind_check";
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_kind_check" CHECK ("kind" IN ('pull', 'push', 'build', 'layer-check'));

-- Layers are no longer measured while they upload (the check above replaces it).
DROP TABLE "layer_measures";
