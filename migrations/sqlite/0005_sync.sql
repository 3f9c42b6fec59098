-- The sync engine: pipelines and their versioned mappings, links between the records of the two
-- sides, cursors, runs with their per-record outcomes, failed records, callouts, conflicts, held
-- deletes, alerts, the change feed and outbound webhooks. Mirrors the other dialect's file column
-- for column.

-- What a connection may spend: per-second rate and the daily quota share given to Tandem.
-- NULL takes the connector's default.
ALTER TABLE connections ADD COLUMN rate_limit_per_second REAL;
ALTER TABLE connections ADD COLUMN daily_quota INTEGER;

-- API calls made per connection and quota window (the window the CRM counts in, UTC start).
CREATE TABLE connection_usage (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    window_start   INTEGER NOT NULL,
    calls          INTEGER NOT NULL,
    PRIMARY KEY (connection_id, window_start)
);

CREATE TABLE pipelines (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment_id        TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    object                TEXT NOT NULL CHECK (object IN ('contact', 'company', 'deal', 'appointment')),
    -- NULL: the operator's app; otherwise the connected CRM.
    source_connection_id  TEXT REFERENCES connections (id) ON DELETE CASCADE,
    target_connection_id  TEXT REFERENCES connections (id) ON DELETE CASCADE,
    direction             TEXT NOT NULL CHECK (direction IN ('one_way', 'two_way')),
    -- JSON: trigger and policies (tandem_shared::api::pipelines::PipelineSettings).
    settings              TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('active', 'paused', 'needs_reauth')),
    status_reason         TEXT,
    -- JSON list of warnings about the mappings (schema drift found at run time).
    warnings              TEXT NOT NULL DEFAULT '[]',
    -- A trigger that arrived while a run was going: run again when it ends.
    rerun_requested       INTEGER NOT NULL DEFAULT 0,
    -- The run in progress: a run spans several job slices, and survives a restart.
    active_run_id         TEXT,
    -- The trigger of the run to start next ('poll', 'webhook', 'manual', 'reconciliation').
    next_trigger          TEXT,
    next_poll_at          INTEGER,
    next_reconcile_at     INTEGER,
    created_by            TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    UNIQUE (environment_id, name)
);
CREATE INDEX pipelines_tenant ON pipelines (tenant_id);
CREATE INDEX pipelines_due ON pipelines (next_poll_at) WHERE status = 'active';

-- Every saved version of a pipeline's mapping; the highest version per direction is in force.
-- forward: source to target; reverse: target to source (two-way pipelines).
CREATE TABLE mapping_versions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id  TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    direction    TEXT NOT NULL CHECK (direction IN ('forward', 'reverse')),
    version      INTEGER NOT NULL,
    config       TEXT NOT NULL,
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    UNIQUE (pipeline_id, direction, version)
);

-- The two ids of one record, and what was last synced between them, so that create-or-update
-- needs no lookup and unchanged content costs nothing.
CREATE TABLE sync_links (
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id         TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    source_id           TEXT NOT NULL,
    target_id           TEXT NOT NULL,
    -- SHA-256 of the forward-mapped record last written to (or read back from) the target.
    forward_hash        TEXT,
    -- SHA-256 of the reverse-mapped record last delivered to (or read from) the source.
    reverse_hash        TEXT,
    -- Two-way only: the source-side record as of the last sync, the base of a three-way merge.
    base                TEXT,
    -- The app record's version last synced, when the app is a side: a push of that version (or our
    -- own write of it) is recognised without mapping anything.
    app_version         INTEGER,
    source_modified_at  INTEGER,
    target_modified_at  INTEGER,
    deleted_at          INTEGER,
    created_at          INTEGER NOT NULL,
    last_synced_at      INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, source_id),
    UNIQUE (pipeline_id, target_id)
);

-- Where each of a pipeline's change reads stands (JSON: a change number or a (time, id) pair).
CREATE TABLE sync_cursors (
    pipeline_id  TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    side         TEXT NOT NULL CHECK (side IN ('source', 'target')),
    cursor       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, side)
);

CREATE TABLE sync_runs (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id          TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    trigger_kind         TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
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
    finished_at          INTEGER
);
CREATE INDEX sync_runs_pipeline ON sync_runs (pipeline_id, started_at);
CREATE INDEX sync_runs_tenant ON sync_runs (tenant_id, started_at);

-- Outcomes that matter, per record (unchanged records are only counted on the run).
CREATE TABLE sync_record_events (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id  TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    run_id       TEXT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    direction    TEXT NOT NULL CHECK (direction IN ('forward', 'reverse')),
    source_id    TEXT,
    target_id    TEXT,
    outcome      TEXT NOT NULL,
    -- JSON: what explains the outcome (the error, the conflict's fields, the duplicate's score).
    detail       TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX sync_record_events_run ON sync_record_events (run_id, id);
CREATE INDEX sync_record_events_record ON sync_record_events (tenant_id, source_id);
CREATE INDEX sync_record_events_target ON sync_record_events (tenant_id, target_id);

-- Records that could not be synced: one row per record and direction while it is open.
CREATE TABLE failed_records (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id     TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    run_id          TEXT,
    direction       TEXT NOT NULL CHECK (direction IN ('forward', 'reverse')),
    record_id       TEXT NOT NULL,
    -- Searchable by support staff (the record's email where it has one).
    record_email    TEXT,
    source_payload  TEXT NOT NULL,
    mapped_payload  TEXT,
    error_kind      TEXT NOT NULL,
    error_field     TEXT,
    error_message   TEXT NOT NULL,
    -- JSON: the CRM's own error, as it sent it.
    crm_error       TEXT,
    attempts        INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'replaying', 'resolved', 'ignored')),
    ignored_reason  TEXT,
    decided_by      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX failed_records_one_per_record ON failed_records (pipeline_id, direction, record_id)
    WHERE status IN ('open', 'replaying');
CREATE INDEX failed_records_tenant ON failed_records (tenant_id, status, updated_at);

-- Every CRM call a run made: never a secret (the path has no query; token paths are templates).
CREATE TABLE callouts (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    run_id         TEXT,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    status         INTEGER,
    error_kind     TEXT,
    duration_ms    INTEGER NOT NULL,
    attempt        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX callouts_run ON callouts (run_id, id);
CREATE INDEX callouts_tenant ON callouts (tenant_id, created_at);

-- Two-way conflicts and how the pipeline's policy resolved them.
CREATE TABLE sync_conflicts (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id  TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    run_id       TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    policy       TEXT NOT NULL,
    -- JSON list: field, source value, target value, which won and why.
    fields       TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX sync_conflicts_pipeline ON sync_conflicts (tenant_id, pipeline_id, created_at);

-- Deletions a run saw but did not apply because there were more than the pipeline allows.
CREATE TABLE held_deletes (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id  TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    run_id       TEXT NOT NULL,
    -- The record's link, so that approving can delete its twin.
    source_id    TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    -- The side the record was deleted on; the deletion would be applied to the other.
    side         TEXT NOT NULL CHECK (side IN ('source', 'target')),
    -- pending: seen by a run that has not finished counting; applied: under the threshold.
    status       TEXT NOT NULL CHECK (status IN ('pending', 'held', 'approved', 'rejected', 'applied')),
    decided_by   TEXT,
    decided_at   INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX held_deletes_pipeline ON held_deletes (tenant_id, pipeline_id, status);
CREATE INDEX held_deletes_run ON held_deletes (run_id, status);

CREATE TABLE alerts (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id      TEXT REFERENCES pipelines (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    message          TEXT NOT NULL,
    detail           TEXT NOT NULL,
    delivered_at     INTEGER,
    delivery_error   TEXT,
    acknowledged_at  INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX alerts_tenant ON alerts (tenant_id, created_at);

-- Changes from the CRMs for the operator's app, in commit order per environment (the
-- 'change_feed' stream of change_sequences). The app pulls them with a cursor (the number).
CREATE TABLE change_feed (
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pipeline_id     TEXT,
    object          TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    provider        TEXT NOT NULL,
    crm_id          TEXT NOT NULL,
    change          TEXT NOT NULL CHECK (change IN ('created', 'updated', 'deleted')),
    record          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (environment_id, seq)
);

-- Where the app wants changes delivered, signed with a secret kept in the vault.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    -- What is delivered: 'changes' (the change feed), 'alerts', or both (JSON list).
    events          TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at);

CREATE TABLE webhook_delivery_attempts (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    status       INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
