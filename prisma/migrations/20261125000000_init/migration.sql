-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'admin',
    "disabled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip" TEXT,
    "user_agent" TEXT,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "token_prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "images" (
    "id" TEXT NOT NULL,
    "created" TIMESTAMPTZ(3),
    "architecture" TEXT NOT NULL,
    "os" TEXT NOT NULL,
    "variant" TEXT,
    "size" BIGINT NOT NULL,
    "config_size" BIGINT NOT NULL,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "parent_id" TEXT,
    "manifest_digest" TEXT,
    "manifest_media_type" TEXT,
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "loaded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_tag_time" TIMESTAMPTZ(3),

    CONSTRAINT "images_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "image_layers" (
    "image_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "diff_id" TEXT NOT NULL,
    "blob" TEXT NOT NULL,
    "blob_size" BIGINT NOT NULL,
    "size" BIGINT NOT NULL,
    "media_type" TEXT NOT NULL,

    CONSTRAINT "image_layers_pkey" PRIMARY KEY ("image_id","position")
);

-- CreateTable
CREATE TABLE "tags" (
    "repository" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "image_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tags_pkey" PRIMARY KEY ("repository","tag")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_id" UUID,
    "actor_name" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "interface" TEXT NOT NULL,
    "result" TEXT NOT NULL,
    "error" TEXT,
    "ip" TEXT,
    "user_agent" TEXT,
    "targets" JSONB NOT NULL DEFAULT '[]',
    "details" JSONB NOT NULL DEFAULT '{}',
    "prev_hash" TEXT,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settings" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settings_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE INDEX "sessions_expires_at_idx" ON "sessions"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens"("user_id");

-- CreateIndex
CREATE INDEX "image_layers_blob_idx" ON "image_layers"("blob");

-- CreateIndex
CREATE INDEX "image_layers_diff_id_idx" ON "image_layers"("diff_id");

-- CreateIndex
CREATE INDEX "tags_image_id_idx" ON "tags"("image_id");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at" DESC);

-- CreateIndex
CREATE INDEX "audit_events_actor_name_at_idx" ON "audit_events"("actor_name", "at");

-- CreateIndex
CREATE INDEX "audit_events_action_at_idx" ON "audit_events"("action", "at");

-- CreateIndex
CREATE INDEX "audit_events_targets_idx" ON "audit_events" USING GIN ("targets");

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_layers" ADD CONSTRAINT "image_layers_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tags" ADD CONSTRAINT "tags_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- ---------------------------------------------------------------------------------------------
-- Below: what schema.prisma cannot express.
-- ---------------------------------------------------------------------------------------------

-- Closed vocabularies
ALTER TABLE "users" ADD CONSTRAINT "users_role_check"
    CHECK ("role" IN ('admin', 'maintainer', 'developer', 'viewer'));
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_interface_check"
    CHECK ("interface" IN ('web', 'cli', 'api', 'registry', 'system'));
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_result_check"
    CHECK ("result" IN ('ok', 'denied', 'failed'));
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_targets_check"
    CHECK (jsonb_typeof("targets") = 'array');
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_details_check"
    CHECK (jsonb_typeof("details") = 'object');

-- audit_events is append-only: UPDATE, DELETE and TRUNCATE are refused.
CREATE FUNCTION "audit_events_refuse_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_events_no_update_delete"
    BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_refuse_change"();

CREATE TRIGGER "audit_events_no_truncate"
    BEFORE TRUNCATE ON "audit_events"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_refuse_change"();

-- The hash chain. The canonical form of an event is the jsonb text of its fields (jsonb sorts
-- keys, so the text is deterministic); `at` is rendered in UTC with milliseconds, as stored.
-- hash = sha256_hex(coalesce(prev_hash, '') || canonical). packages/db/src/audit.ts verifies
-- the chain with the same function.
CREATE FUNCTION "audit_event_canonical"(e "audit_events") RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', e."id",
        'at', to_char(e."at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'actor_id', e."actor_id",
        'actor_name', e."actor_name",
        'action', e."action",
        'interface', e."interface",
        'result', e."result",
        'error', e."error",
        'ip', e."ip",
        'user_agent', e."user_agent",
        'targets', e."targets",
        'details', e."details"
    )::text
$$;

CREATE FUNCTION "audit_event_hash"(prev_hash text, e "audit_events") RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(coalesce(prev_hash, '') || "audit_event_canonical"(e), 'UTF8')), 'hex')
$$;

-- Links each new event to the previous one. The advisory lock serialises appends until the
-- inserting transaction ends; the id and time are (re)assigned under the lock so that id order
-- is chain order even when transactions take their ids and commit in different orders.
CREATE FUNCTION "audit_events_chain"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_id bigint;
    previous text;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- A snapshot older than the lock could miss the latest event and fork the chain.
        RAISE EXCEPTION 'audit events must be appended in a READ COMMITTED transaction (this one is %)',
            current_setting('transaction_isolation');
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('berth.audit_events.chain'));
    SELECT "id", "hash" INTO last_id, previous FROM "audit_events" ORDER BY "id" DESC LIMIT 1;
    IF NEW."id" <= last_id THEN
        -- Took its id before a transaction that committed first: take a new one.
        NEW."id" := nextval(pg_get_serial_sequence('"audit_events"', 'id'));
    END IF;
    NEW."at" := date_trunc('milliseconds', clock_timestamp());
    NEW."prev_hash" := previous;
    NEW."hash" := "audit_event_hash"(previous, NEW);
    RETURN NEW;
END;
$$;

CREATE TRIGGER "audit_events_chain"
    BEFORE INSERT ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_chain"();
