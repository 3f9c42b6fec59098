-- The durable job queue (backend/src/jobs). A job is queued, then running under a lease that its
-- worker's heartbeat extends, then succeeded, failed (a permanent error), dead (retries exhausted)
-- or cancelled. An expired lease means the worker died: the job is queued again (or dead when it
-- has no attempts left). Finished jobs stay for history until pruned.
--
-- Mirrored column for column in migrations/postgres/0003_jobs.sql.

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    -- NULL for system jobs that belong to no tenant.
    tenant_id         TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    -- What the round-robin over tenants keys on: the tenant id, or 'system'.
    tenant_key        TEXT NOT NULL GENERATED ALWAYS AS (COALESCE(tenant_id, 'system')) STORED,
    kind              TEXT NOT NULL,
    -- JSON.
    payload           TEXT NOT NULL,
    status            TEXT NOT NULL
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
    -- Higher runs first, among one tenant's due jobs (real-time work before backfill).
    priority          INTEGER NOT NULL DEFAULT 0,
    -- Not claimed before this time.
    run_at            INTEGER NOT NULL,
    -- Claims that counted: a claim adds one; a `RetryAfter` (rate limited) gives it back.
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL CHECK (max_attempts >= 1),
    -- The worker that holds (or last held) the job, and the id of that one claim: heartbeats and
    -- results must present the claim id, so a worker whose lease expired cannot overwrite the
    -- outcome of the worker that took the job over.
    lease_owner       TEXT,
    lease_id          TEXT,
    lease_expires_at  INTEGER,
    last_error        TEXT,
    -- At most one queued or running job per (tenant, kind, dedupe key).
    dedupe_key        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    finished_at       INTEGER
);

-- Picking the next job of a tenant, in claim order.
CREATE INDEX jobs_pick ON jobs (tenant_key, priority DESC, run_at, id) WHERE status = 'queued';
-- Whether a tenant has a due job at all.
CREATE INDEX jobs_due ON jobs (tenant_key, run_at) WHERE status = 'queued';
-- Finding expired leases.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
CREATE UNIQUE INDEX jobs_dedupe ON jobs (tenant_key, kind, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running');
-- Pruning history.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- The round-robin over tenants: each claim serves the tenant with due work whose turn is oldest,
-- then gives that tenant the newest turn. A tenant's row is created (turn 0: first in line) when
-- its first job is enqueued.
CREATE TABLE job_turns (
    tenant_key  TEXT PRIMARY KEY,
    last_turn   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX job_turns_order ON job_turns (last_turn, tenant_key);
