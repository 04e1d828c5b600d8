-- Searching the audit log at millions of events: every filter of the audit page reads at most a
-- page's worth of index entries, newest first (keyset pagination by id).
--
--  * person, action and result: btree indexes on (column, id), read backwards from the cursor.
--  * namespace, repository, tag, reference (repository:tag) and digest: an event names them inside
--    its `targets` jsonb, possibly several of each, so a jsonb/GIN index could only answer "which
--    events", unordered. Instead the insert trigger below extracts these terms into a dictionary
--    (audit_search_terms) and one posting per (term, event) (audit_search_postings), whose primary
--    key (term_id, event_id) is an ordered list of the events naming a term.
--  * time range: the chain trigger now keeps `at` non-decreasing in id order, so a time range is an
--    id range (packages/db/src/audit-search.ts turns one into the other with the `at` index).
--
-- Nothing here changes audit_events' columns or the canonical form the hash chain covers: terms
-- and postings are derived from `action` and `targets`, which the chain does cover.

-- ---------------------------------------------------------------------------------------------
-- Indexes on audit_events
-- ---------------------------------------------------------------------------------------------

-- Pages are ordered by id, not `at`: (column, id) serves "WHERE column = x AND id < cursor
-- ORDER BY id DESC LIMIT n" from the index alone. The GIN index on targets never served the
-- repository filter (a jsonb_array_elements scan cannot use it); the postings replace it.
DROP INDEX "audit_events_actor_name_at_idx";
DROP INDEX "audit_events_action_at_idx";
DROP INDEX "audit_events_targets_idx";
CREATE INDEX "audit_events_actor_name_id_idx" ON "audit_events"("actor_name", "id");
CREATE INDEX "audit_events_action_id_idx" ON "audit_events"("action", "id");
CREATE INDEX "audit_events_result_id_idx" ON "audit_events"("result", "id");

-- ---------------------------------------------------------------------------------------------
-- Time order is chain order
-- ---------------------------------------------------------------------------------------------

-- As in the init migration, except that an event's time is never earlier than the time of the
-- event before it (a clock stepping back repeats the last time instead): then the events in a
-- time range are exactly those in an id range. The canonical form and the hash are unchanged.
CREATE OR REPLACE FUNCTION "audit_events_chain"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_id bigint;
    last_at timestamptz;
    previous text;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- A snapshot older than the lock could miss the latest event and fork the chain.
        RAISE EXCEPTION 'audit events must be appended in a READ COMMITTED transaction (this one is %)',
            current_setting('transaction_isolation');
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('berth.audit_events.chain'));
    SELECT "id", "at", "hash" INTO last_id, last_at, previous FROM "audit_events" ORDER BY "id" DESC LIMIT 1;
    IF NEW."id" <= last_id THEN
        -- Took its id before a transaction that committed first: take a new one.
        NEW."id" := nextval(pg_get_serial_sequence('"audit_events"', 'id'));
    END IF;
    -- greatest() ignores the NULL of an empty log.
    NEW."at" := greatest(date_trunc('milliseconds', clock_timestamp()), last_at);
    NEW."prev_hash" := previous;
    NEW."hash" := "audit_event_hash"(previous, NEW);
    RETURN NEW;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- Search terms and postings
-- ---------------------------------------------------------------------------------------------

-- One row per distinct term ever named by an event. `value` is, per kind:
--   namespace   first path component of a repository (`library`, `team-a`)
--   repository  normalised repository (`docker.io/library/redis`, `localhost:5000/team-a/app`)
--   tag         tag name (`v1.2`)
--   reference   normalised repository:tag (`docker.io/team-a/app:v1.2`)
--   digest      `sha256:` + 64 hex (digestBefore, digestAfter, image IDs and `@digest` in refs)
CREATE TABLE "audit_search_terms" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "audit_search_terms_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "audit_search_terms_kind_check"
        CHECK ("kind" IN ('namespace', 'repository', 'tag', 'reference', 'digest'))
);
CREATE UNIQUE INDEX "audit_search_terms_kind_value_key" ON "audit_search_terms"("kind", "value");
-- Unique digest prefixes (`berth audit --filter digest=3f4a9c01b2d7`), whatever the database's collation.
CREATE INDEX "audit_search_terms_value_prefix_idx" ON "audit_search_terms"("kind", "value" text_pattern_ops);

-- The events naming each term. No foreign keys: rows are only ever added, by the trigger below,
-- together with the event and in its transaction, and appends should stay cheap.
CREATE TABLE "audit_search_postings" (
    "term_id" BIGINT NOT NULL,
    "event_id" BIGINT NOT NULL,

    CONSTRAINT "audit_search_postings_pkey" PRIMARY KEY ("term_id", "event_id")
);

-- The terms of one reference, parsed exactly like parseReference in packages/engine/src/reference.ts
-- (docker's ParseNormalizedNamed); nothing for an invalid one. packages/db/src/audit-terms.ts is
-- the TypeScript twin, and packages/db/test/audit-terms.test.ts checks that both agree.
CREATE FUNCTION "audit_reference_terms"(ref text) RETURNS TABLE ("kind" text, "value" text)
LANGUAGE plpgsql IMMUTABLE STRICT ROWS 5 AS $$
DECLARE
    slash int;
    first text;
    domain text;
    remainder text;
    at_sign int;
    colon int;
    repo_path text;
    tag text;
    digest text;
    name text;
BEGIN
    IF ref ~ '^[a-f0-9]{64}$' THEN
        RETURN;  -- docker refuses 64-hex repository names
    END IF;
    -- splitDockerDomain
    slash := strpos(ref, '/');
    IF slash = 0 THEN
        domain := 'docker.io';
        remainder := ref;
    ELSE
        first := left(ref, slash - 1);
        IF first ~ '[.:]' OR first = 'localhost' OR lower(first) <> first THEN
            domain := first;
            remainder := substr(ref, slash + 1);
        ELSE
            domain := 'docker.io';
            remainder := ref;
        END IF;
    END IF;
    IF domain = 'index.docker.io' THEN
        domain := 'docker.io';
    END IF;
    IF domain = 'docker.io' AND strpos(remainder, '/') = 0 THEN
        remainder := 'library/' || remainder;
    END IF;
    -- [path][:tag][@digest]: the path has no ':' (a port belongs to the domain, split off above).
    at_sign := strpos(remainder, '@');
    IF at_sign > 0 THEN
        digest := substr(remainder, at_sign + 1);
        remainder := left(remainder, at_sign - 1);
    END IF;
    colon := strpos(remainder, ':');
    IF colon > 0 THEN
        tag := substr(remainder, colon + 1);
        repo_path := left(remainder, colon - 1);
    ELSE
        repo_path := remainder;
    END IF;
    name := domain || '/' || repo_path;
    -- distribution/reference's grammar: [domain[:port]/]component(/component)*, as one name.
    IF name !~ ('^((([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*'
                || '|\[[a-fA-F0-9:]+\])(:[0-9]+)?/)?'
                || '[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*$')
       OR length(name) > 255
       OR (tag IS NOT NULL AND tag !~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
       OR (digest IS NOT NULL AND digest !~ '^sha256:[0-9a-f]{64}$') THEN
        RETURN;
    END IF;
    kind := 'repository'; value := name; RETURN NEXT;
    kind := 'namespace'; value := split_part(repo_path, '/', 1); RETURN NEXT;
    IF tag IS NOT NULL THEN
        kind := 'tag'; value := tag; RETURN NEXT;
        kind := 'reference'; value := name || ':' || tag; RETURN NEXT;
    END IF;
    IF digest IS NOT NULL THEN
        kind := 'digest'; value := digest; RETURN NEXT;
    END IF;
END;
$$;

-- The terms of one target of an event:
--  * its digestBefore and digestAfter;
--  * `namespace:<name>` refs (permission denials name the namespace they concern);
--  * for image actions (image.*, images.*, tag.*, tags.*, job.*, jobs.*): the ref as an image
--    reference, or as an image ID (`sha256:…`);
--  * for other actions, only the namespace of a ref that looks like `[domain/]namespace/…` (a tag
--    protection rule `team-a/*:release-*`): their refs are users, tokens, registries, ….
CREATE FUNCTION "audit_target_terms"(action text, target jsonb) RETURNS TABLE ("kind" text, "value" text)
LANGUAGE plpgsql IMMUTABLE ROWS 6 AS $$
DECLARE
    ref text := CASE WHEN jsonb_typeof(target) = 'object' THEN target ->> 'ref' END;
    side text;
    slash int;
    first text;
    rest text;
BEGIN
    IF jsonb_typeof(target) <> 'object' THEN
        RETURN;
    END IF;
    FOREACH side IN ARRAY ARRAY['digestBefore', 'digestAfter'] LOOP
        IF target ->> side ~ '^sha256:[0-9a-f]{64}$' THEN
            kind := 'digest'; value := target ->> side; RETURN NEXT;
        END IF;
    END LOOP;
    IF ref IS NULL THEN
        RETURN;
    END IF;
    IF ref ~ '^namespace:[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*$' THEN
        kind := 'namespace'; value := substr(ref, 11); RETURN NEXT;
        RETURN;
    END IF;
    IF action ~ '^(images?|tags?|jobs?)\.' THEN
        IF ref ~ '^sha256:[0-9a-f]{64}$' THEN
            kind := 'digest'; value := ref; RETURN NEXT;
        ELSE
            RETURN QUERY SELECT * FROM "audit_reference_terms"(ref);
        END IF;
        RETURN;
    END IF;
    slash := strpos(ref, '/');
    IF slash = 0 THEN
        RETURN;
    END IF;
    first := left(ref, slash - 1);
    rest := substr(ref, slash + 1);
    IF NOT (first ~ '[.:]' OR first = 'localhost' OR lower(first) <> first) THEN
        rest := ref;  -- no domain: the first component is the namespace
    END IF;
    first := split_part(rest, '/', 1);
    IF first ~ '^[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*$' THEN
        kind := 'namespace'; value := first; RETURN NEXT;
    END IF;
END;
$$;

-- The distinct terms of an event. plpgsql, not an inlinable SQL function, so that the planner
-- takes its ROWS estimate: joined to the dictionary, a handful of terms are index lookups, not a
-- hash of the whole dictionary per event.
CREATE FUNCTION "audit_event_terms"(action text, targets jsonb) RETURNS TABLE ("kind" text, "value" text)
LANGUAGE plpgsql IMMUTABLE ROWS 6 AS $$
BEGIN
    RETURN QUERY
        SELECT DISTINCT t."kind", t."value"
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(targets) = 'array' THEN targets ELSE '[]' END) AS x(target)
        CROSS JOIN LATERAL "audit_target_terms"(action, x.target) AS t;
END;
$$;

-- Indexes each new event. Appends hold the chain's advisory lock until their transaction ends, so
-- no two transactions add the same term at once. One simple statement per term: each is planned
-- once per session and reads the unique index (a set-based statement here got a generic plan that
-- scanned the whole dictionary for every event).
CREATE FUNCTION "audit_events_index_terms"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    term record;
    term_id bigint;
BEGIN
    FOR term IN SELECT t."kind", t."value" FROM "audit_event_terms"(NEW."action", NEW."targets") AS t LOOP
        SELECT s."id" INTO term_id FROM "audit_search_terms" s WHERE s."kind" = term."kind" AND s."value" = term."value";
        IF NOT FOUND THEN
            INSERT INTO "audit_search_terms" ("kind", "value") VALUES (term."kind", term."value") RETURNING "id" INTO term_id;
        END IF;
        INSERT INTO "audit_search_postings" ("term_id", "event_id") VALUES (term_id, NEW."id");
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER "audit_events_index_terms"
    AFTER INSERT ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_index_terms"();

-- Terms and postings are append-only like the events they index: hiding an event from searches
-- takes the same privileged session as altering it.
CREATE FUNCTION "audit_search_refuse_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_search_terms_no_update_delete"
    BEFORE UPDATE OR DELETE ON "audit_search_terms"
    FOR EACH ROW EXECUTE FUNCTION "audit_search_refuse_change"();
CREATE TRIGGER "audit_search_terms_no_truncate"
    BEFORE TRUNCATE ON "audit_search_terms"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_search_refuse_change"();
CREATE TRIGGER "audit_search_postings_no_update_delete"
    BEFORE UPDATE OR DELETE ON "audit_search_postings"
    FOR EACH ROW EXECUTE FUNCTION "audit_search_refuse_change"();
CREATE TRIGGER "audit_search_postings_no_truncate"
    BEFORE TRUNCATE ON "audit_search_postings"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_search_refuse_change"();

-- Index the events recorded before this migration.
INSERT INTO "audit_search_terms" ("kind", "value")
SELECT DISTINCT t."kind", t."value"
FROM "audit_events" e CROSS JOIN LATERAL "audit_event_terms"(e."action", e."targets") AS t;

INSERT INTO "audit_search_postings" ("term_id", "event_id")
SELECT s."id", e."id"
FROM "audit_events" e
CROSS JOIN LATERAL "audit_event_terms"(e."action", e."targets") AS t
JOIN "audit_search_terms" s ON s."kind" = t."kind" AND s."value" = t."value";
