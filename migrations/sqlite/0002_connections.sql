-- Connected CRM accounts, one per tenant environment and provider, and the short-lived state of
-- OAuth authorizations in progress. Tokens and PKCE verifiers live in vault_secrets.

CREATE TABLE connections (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment_id     TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    provider           TEXT NOT NULL,
    -- 'sandbox': Tandem's emulation of the CRM; 'live': the real CRM.
    target             TEXT NOT NULL CHECK (target IN ('sandbox', 'live')),
    status             TEXT NOT NULL CHECK (status IN ('healthy', 'needs_reauth', 'error')),
    account_id         TEXT NOT NULL,
    account_name       TEXT NOT NULL,
    account_user       TEXT,
    base_url           TEXT NOT NULL,
    scopes             TEXT NOT NULL,
    access_expires_at  INTEGER,
    last_refreshed_at  INTEGER,
    last_checked_at    INTEGER,
    last_error         TEXT,
    -- Bumped by every token change, so that two instances refreshing at once cannot both win.
    token_version      INTEGER NOT NULL DEFAULT 0,
    connected_by       TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (tenant_id, environment_id, provider)
);
CREATE INDEX connections_tenant ON connections (tenant_id);

-- Only the SHA-256 of the `state` parameter is stored; it can be used once, within 10 minutes.
CREATE TABLE oauth_states (
    state_hash       TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment_id   TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider         TEXT NOT NULL,
    target           TEXT NOT NULL CHECK (target IN ('sandbox', 'live')),
    sandbox_account  TEXT,
    redirect_uri     TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER
);
