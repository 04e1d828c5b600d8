-- The team's shared registry configuration: per registry the insecure flag, a CA bundle and
-- credentials (password sealed with the server key), and an ordered list of mirrors with health.
CREATE TABLE "registries" (
    "domain" TEXT NOT NULL,
    "insecure" BOOLEAN NOT NULL DEFAULT false,
    "ca" TEXT,
    "username" TEXT,
    "password_sealed" TEXT,
    "credentials_set_by" TEXT,
    "credentials_set_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "registries_pkey" PRIMARY KEY ("domain"),
    -- A username and a sealed password come and go together.
    CONSTRAINT "registries_credentials_check" CHECK (("username" IS NULL) = ("password_sealed" IS NULL))
);

CREATE TABLE "registry_mirrors" (
    "registry_domain" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "last_success_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(3),
    "latency_ms" INTEGER,
    "bytes_served" BIGINT NOT NULL DEFAULT 0,
    "unhealthy_until" TIMESTAMPTZ(3),

    CONSTRAINT "registry_mirrors_pkey" PRIMARY KEY ("registry_domain", "url")
);

CREATE INDEX "registry_mirrors_registry_domain_position_idx" ON "registry_mirrors"("registry_domain", "position");

ALTER TABLE "registry_mirrors" ADD CONSTRAINT "registry_mirrors_registry_domain_fkey"
    FOREIGN KEY ("registry_domain") REFERENCES "registries"("domain") ON DELETE CASCADE ON UPDATE CASCADE;

-- Docker Hub is always there: mirrors for it are what most teams configure first.
INSERT INTO "registries" ("domain") VALUES ('docker.io');
