-- Records the operator's app pushed, per tenant environment: the last accepted content (in the
-- unified model) and its hash, so that pushing the same content again changes nothing.

-- Per environment and stream, the last change number handed out. A writer takes the next numbers
-- by updating this row first in its transaction, which holds the row until commit: changes thus
-- commit in number order, and a reader that resumes after number N can never miss a change that
-- committed late with a smaller number (which a timestamp cursor could).
CREATE TABLE change_sequences (
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    stream          TEXT NOT NULL,
    last_seq        BIGINT NOT NULL,
    PRIMARY KEY (environment_id, stream)
);

CREATE TABLE app_records (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    object          TEXT NOT NULL CHECK (object IN ('contact', 'company', 'deal', 'appointment')),
    external_id     TEXT NOT NULL,
    payload         TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    version         BIGINT NOT NULL,
    -- The environment's 'app_records' change number of the last change: the push cursor.
    change_seq      BIGINT NOT NULL,
    deleted_at      BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (environment_id, object, external_id)
);
CREATE INDEX app_records_changes ON app_records (environment_id, object, change_seq);

-- The keys each live record is matched by (see domain::match_keys), so that a record created on
-- a CRM finds its twin among the app's records without a scan.
CREATE TABLE app_record_keys (
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    object          TEXT NOT NULL,
    match_key       TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    PRIMARY KEY (environment_id, object, match_key, external_id)
);
CREATE INDEX app_record_keys_record ON app_record_keys (environment_id, object, external_id);
