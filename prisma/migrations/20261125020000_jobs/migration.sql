-- Server-side jobs (pull), claimed by any replica with FOR UPDATE SKIP LOCKED.
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'queued',
    "input" JSONB NOT NULL,
    "progress" JSONB NOT NULL DEFAULT '{"lines":[],"layers":[]}',
    "result" JSONB,
    "error" TEXT,
    "created_by_id" UUID,
    "created_by_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "claimed_by" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "jobs_kind_check" CHECK ("kind" IN ('pull')),
    CONSTRAINT "jobs_state_check" CHECK ("state" IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'))
);

CREATE INDEX "jobs_state_created_at_idx" ON "jobs"("state", "created_at");

CREATE INDEX "jobs_created_at_idx" ON "jobs"("created_at" DESC);
