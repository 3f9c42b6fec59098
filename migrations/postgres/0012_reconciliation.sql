-- What each pipeline has read of each CRM side: every record's id and modification time as last
-- read, deletions marked. The daily reconciliation compares its counts, range of modification times
-- by range, with the CRM's own, and re-reads the ranges that differ (`sync/reconcile.rs`).
CREATE TABLE sync_seen (
    pipeline_id  TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    side         TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    modified_at  BIGINT NOT NULL,
    deleted      BIGINT NOT NULL DEFAULT 0,
    -- When it was last read (ms): a re-read tells the records it did not find by this.
    read_at      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pipeline_id, side, record_id)
);
CREATE INDEX sync_seen_modified ON sync_seen (pipeline_id, side, deleted, modified_at);

-- A reconciliation run's outcome, per side (JSON: counts compared, ranges re-read, what it repaired).
ALTER TABLE sync_runs ADD COLUMN reconciliation TEXT;
