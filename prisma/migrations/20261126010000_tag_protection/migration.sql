-- Tag protection: per namespace, glob patterns over tag names (`release-*`, `v*.*.*`). A tag of a
-- repository in that namespace that a pattern matches can be moved or removed only by an admin.
CREATE TABLE "tag_protection_rules" (
    "id" UUID NOT NULL,
    "namespace" TEXT NOT NULL,
    "pattern" TEXT NOT NULL,
    -- A username, not a foreign key: the rule outlives the person who added it.
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tag_protection_rules_pkey" PRIMARY KEY ("id"),
    -- The API validates both with a clear message; these keep other writers honest.
    CONSTRAINT "tag_protection_rules_namespace_check" CHECK ("namespace" ~ '^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$'),
    CONSTRAINT "tag_protection_rules_pattern_check" CHECK ("pattern" ~ '^[A-Za-z0-9_.*?-]{1,128}$')
);

CREATE UNIQUE INDEX "tag_protection_rules_namespace_pattern_key" ON "tag_protection_rules"("namespace", "pattern");
