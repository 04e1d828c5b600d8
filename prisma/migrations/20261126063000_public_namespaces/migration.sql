-- Public namespaces: an admin marks a namespace public, and anonymous callers of the registry API
-- (`/v2/`) may then pull its repositories (manifests, blobs, tags, the catalog). Nothing else
-- becomes anonymous: pushing and deleting still need a signed-in caller with the role for it.
CREATE TABLE "public_namespaces" (
    -- The first path component of a repository (`team-a`, `library` for docker.io's official images).
    "namespace" TEXT NOT NULL,
    -- A username, not a foreign key: the setting outlives the person who made it.
    "set_by" TEXT NOT NULL,
    "set_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "public_namespaces_pkey" PRIMARY KEY ("namespace"),
    -- The API validates it with a clear message; this keeps other writers honest.
    CONSTRAINT "public_namespaces_namespace_check" CHECK ("namespace" ~ '^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$')
);
