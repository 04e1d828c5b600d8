-- "Mirrors only" per registry (air-gapped teams): pulls try the registry's mirrors and never fall
-- back to the registry itself. Pushes and searches still go to the registry.
ALTER TABLE "registries" ADD COLUMN "mirrors_only" BOOLEAN NOT NULL DEFAULT false;
