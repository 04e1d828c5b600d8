-- A counter that changes with every committed change to images, layers or tags, so a server
-- replica can keep image listings in memory and know, with one cheap read, when they are stale.
CREATE TABLE "store_state" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "store_state_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "store_state_single_row" CHECK ("id" = 1)
);

INSERT INTO "store_state" ("id", "version") VALUES (1, 0);

CREATE FUNCTION bump_store_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE store_state SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER images_bump_store_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "images"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_store_version();
CREATE TRIGGER image_layers_bump_store_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "image_layers"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_store_version();
CREATE TRIGGER tags_bump_store_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "tags"
  FOR EACH STATEMENT EXECUTE FUNCTION bump_store_version();
