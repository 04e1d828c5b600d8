-- People, roles and namespaces: one-time invitations, per-namespace grants on top of a user's
-- default role, and robot tokens (a name, scoped to namespaces and actions) beside personal ones.

-- An invitation is a one-time link; only the sha256 of its secret is stored.
CREATE TABLE "invites" (
    "id" UUID NOT NULL,
    "secret_hash" TEXT NOT NULL,
    -- Optional: when set, the invitation can only create this username.
    "username" TEXT,
    "email" TEXT,
    "role" TEXT NOT NULL,
    "created_by_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "used_by_id" UUID,

    CONSTRAINT "invites_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "invites_role_check" CHECK ("role" IN ('admin', 'maintainer', 'developer', 'viewer')),
    CONSTRAINT "invites_used_check" CHECK (("used_at" IS NULL) = ("used_by_id" IS NULL))
);

CREATE UNIQUE INDEX "invites_secret_hash_key" ON "invites"("secret_hash");
CREATE INDEX "invites_expires_at_idx" ON "invites"("expires_at");

ALTER TABLE "invites" ADD CONSTRAINT "invites_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "invites" ADD CONSTRAINT "invites_used_by_id_fkey" FOREIGN KEY ("used_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- A grant raises a user's role in one namespace (the first path component of a repository).
CREATE TABLE "namespace_grants" (
    "user_id" UUID NOT NULL,
    "namespace" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "namespace_grants_pkey" PRIMARY KEY ("user_id", "namespace"),
    -- Admin is only ever a default role.
    CONSTRAINT "namespace_grants_role_check" CHECK ("role" IN ('developer', 'maintainer')),
    -- A repository path component, as references spell it.
    CONSTRAINT "namespace_grants_namespace_check" CHECK ("namespace" ~ '^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$')
);

CREATE INDEX "namespace_grants_namespace_idx" ON "namespace_grants"("namespace");

ALTER TABLE "namespace_grants" ADD CONSTRAINT "namespace_grants_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Robot tokens: owned by the user who created them (user_id), limited to namespaces ('*': all)
-- and actions, and never more than their owner may do at the time of use.
ALTER TABLE "api_tokens"
    ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'personal',
    ADD COLUMN "namespaces" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    ADD COLUMN "actions" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];

ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_kind_check" CHECK ("kind" IN ('personal', 'robot'));
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_actions_check"
    CHECK ("actions" <@ ARRAY['read', 'pull', 'push', 'tag', 'remove', 'load']::TEXT[]);
-- A personal token acts with its owner's full permissions: it has no scope.
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_scope_check"
    CHECK ("kind" = 'robot' OR (cardinality("namespaces") = 0 AND cardinality("actions") = 0));

-- The audit names a robot `robot:<name>`: two live robots never share a name.
CREATE UNIQUE INDEX "api_tokens_robot_name_key" ON "api_tokens"("name") WHERE "kind" = 'robot' AND "revoked_at" IS NULL;
