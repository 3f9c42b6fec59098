-- no-transaction
-- Runs may end `incomplete`: without proof that they read every change (engine: `sync/reader.rs`).
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt (sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): with foreign keys off, so that dropping the old table
-- does not cascade into the events, callouts and failed records that point at runs.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE sync_runs_new (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id          TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    trigger_kind         TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'incomplete')),
    created              INTEGER NOT NULL DEFAULT 0,
    updated              INTEGER NOT NULL DEFAULT 0,
    deleted              INTEGER NOT NULL DEFAULT 0,
    unchanged            INTEGER NOT NULL DEFAULT 0,
    skipped              INTEGER NOT NULL DEFAULT 0,
    failed               INTEGER NOT NULL DEFAULT 0,
    conflicts            INTEGER NOT NULL DEFAULT 0,
    held                 INTEGER NOT NULL DEFAULT 0,
    api_calls            INTEGER NOT NULL DEFAULT 0,
    retries              INTEGER NOT NULL DEFAULT 0,
    -- Initial loads: how far, of how many, and when it should be done at the quota's pace.
    progress_done        INTEGER NOT NULL DEFAULT 0,
    progress_total       INTEGER,
    estimated_finish_at  INTEGER,
    error                TEXT,
    started_at           INTEGER NOT NULL,
    finished_at          INTEGER,
    waiting_until        INTEGER
);
INSERT INTO sync_runs_new
    (id, tenant_id, pipeline_id, trigger_kind, status, created, updated, deleted, unchanged, skipped, failed,
     conflicts, held, api_calls, retries, progress_done, progress_total, estimated_finish_at, error, started_at,
     finished_at, waiting_until)
SELECT id, tenant_id, pipeline_id, trigger_kind, status, created, updated, deleted, unchanged, skipped, failed,
     conflicts, held, api_calls, retries, progress_done, progress_total, estimated_finish_at, error, started_at,
     finished_at, waiting_until
FROM sync_runs;
DROP TABLE sync_runs;
ALTER TABLE sync_runs_new RENAME TO sync_runs;
CREATE INDEX sync_runs_pipeline ON sync_runs (pipeline_id, started_at);
CREATE INDEX sync_runs_tenant ON sync_runs (tenant_id, started_at);
COMMIT;
PRAGMA foreign_keys = ON;
