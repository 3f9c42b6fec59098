-- Tenants, their two environments, people, sessions, API keys, the audit log and the vault.
-- Identifiers are UUID text; times are Unix milliseconds (UTC). The PostgreSQL schema mirrors this
-- one column for column (see docs/decisions/0001-one-sql-dialect-through-sqlx-any.md).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    is_demo     BIGINT NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
    created_at  BIGINT NOT NULL
);

CREATE TABLE environments (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('sandbox', 'production')),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, kind)
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    CHECK ((tenant_id IS NULL AND role IN ('operator_admin', 'support', 'sales'))
        OR (tenant_id IS NOT NULL AND role IN ('admin', 'viewer')))
);
CREATE INDEX users_tenant ON users (tenant_id);

-- The session token itself is never stored: only its SHA-256.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment_id  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    created_by      TEXT,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT,  -- no foreign key: history outlives what it describes
    actor_kind   TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT,
    details      TEXT NOT NULL,
    request_id   TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

-- Failed logins per key (`email:…` or `ip:…`), shared by every instance on the database.
CREATE TABLE login_throttle (
    throttle_key     TEXT PRIMARY KEY,
    failures         BIGINT NOT NULL,
    window_started   BIGINT NOT NULL,
    locked_until     BIGINT
);

-- Encrypted credentials. `sealed` is nonce || AES-256-GCM ciphertext; the associated data binds it
-- to tenant, owner, purpose and key id, so a row copied elsewhere fails to open.
CREATE TABLE vault_secrets (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    owner_id    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    sealed      BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, owner_id, purpose)
);
CREATE INDEX vault_secrets_key ON vault_secrets (key_id);
