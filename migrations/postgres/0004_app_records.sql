-- Records the operator's app pushed, per tenant environment: the last accepted content (in the
-- unified model) and its hash, so that pushing the same content again changes nothing.

CREATE TABLE app_records (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    object          TEXT NOT NULL CHECK (object IN ('contact', 'company', 'deal', 'appointment')),
    external_id     TEXT NOT NULL,
    payload         TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    version         BIGINT NOT NULL,
    deleted_at      BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (environment_id, object, external_id)
);
-- What changed since a point in time, in a complete order (the sync engine's push cursor).
CREATE INDEX app_records_changed ON app_records (environment_id, object, updated_at, external_id);
