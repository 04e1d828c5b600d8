-- Every server asks every few minutes which unchecked layers' last check failed
-- (services/layer-check.ts, requeueLayerChecks): the few unchecked layers, and the checks of one
-- blob, are found by index however many layers and jobs the store has seen.
CREATE INDEX "image_layers_unchecked_idx" ON "image_layers"("blob") WHERE NOT "checked";
CREATE INDEX "jobs_layer_check_blob_idx" ON "jobs"((("input"->>'blob')), "created_at") WHERE "kind" = 'layer-check';
