//! Connected CRM accounts. Secrets are not here: tokens live in the vault under the connection id.

use tandem_shared::api::connections::{Connection, ConnectionStatus, ConnectionTarget};
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::{ConnectionId, EnvironmentId, TenantId};

use super::{Exec, RepoError, parse_id, to_datetime};

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: String,
    tenant_id: String,
    environment_id: String,
    environment_kind: String,
    provider: String,
    target: String,
    status: String,
    account_id: String,
    account_name: String,
    account_user: Option<String>,
    base_url: String,
    scopes: String,
    access_expires_at: Option<i64>,
    last_refreshed_at: Option<i64>,
    last_checked_at: Option<i64>,
    last_error: Option<String>,
    token_version: i64,
    connected_by: Option<String>,
    created_at: i64,
    rate_limit_per_second: Option<f64>,
    daily_quota: Option<i64>,
    search_rate_limit_per_second: Option<f64>,
}

/// The limits an admin set for a connection instead of the CRM's defaults (none: the default).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LimitOverrides {
    pub requests_per_second: Option<f64>,
    pub daily_quota: Option<i64>,
    /// The CRM's search API's own rate, where it has one.
    pub search_requests_per_second: Option<f64>,
}

/// A connection with what the platform needs beyond the API view: where its API is and which
/// token version is current.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredConnection {
    pub connection: Connection,
    pub base_url: String,
    pub token_version: i64,
    /// The admin's own limits, where set.
    pub overrides: LimitOverrides,
}

impl TryFrom<ConnectionRow> for StoredConnection {
    type Error = RepoError;
    fn try_from(row: ConnectionRow) -> Result<Self, RepoError> {
        // The display name comes from the catalogue, above this layer (`services::connections`).
        let provider_name = row.provider.clone();
        Ok(StoredConnection {
            connection: Connection {
                id: parse_id(&row.id, "connection id")?,
                tenant_id: parse_id(&row.tenant_id, "tenant id")?,
                environment_id: parse_id(&row.environment_id, "environment id")?,
                environment: EnvironmentKind::parse(&row.environment_kind)
                    .ok_or_else(|| RepoError::Corrupt(format!("environment kind {:?}", row.environment_kind)))?,
                provider: row.provider,
                provider_name,
                target: ConnectionTarget::parse(&row.target)
                    .ok_or_else(|| RepoError::Corrupt(format!("connection target {:?}", row.target)))?,
                status: ConnectionStatus::parse(&row.status)
                    .ok_or_else(|| RepoError::Corrupt(format!("connection status {:?}", row.status)))?,
                account_id: row.account_id,
                account_name: row.account_name,
                account_user: row.account_user,
                scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
                connected_by: row.connected_by,
                connected_at: to_datetime(row.created_at),
                access_expires_at: row.access_expires_at.map(to_datetime),
                last_refreshed_at: row.last_refreshed_at.map(to_datetime),
                last_checked_at: row.last_checked_at.map(to_datetime),
                last_error: row.last_error,
                // Filled in with the catalogue's defaults and today's usage above this layer.
                limits: Default::default(),
            },
            base_url: row.base_url,
            token_version: row.token_version,
            overrides: LimitOverrides {
                requests_per_second: row.rate_limit_per_second,
                daily_quota: row.daily_quota,
                search_requests_per_second: row.search_rate_limit_per_second,
            },
        })
    }
}

macro_rules! select_connections {
    ($rest:literal) => {
        concat!(
            "SELECT c.id, c.tenant_id, c.environment_id, e.kind AS environment_kind, c.provider, c.target, c.status, \
                    c.account_id, c.account_name, c.account_user, c.base_url, c.scopes, c.access_expires_at, \
                    c.last_refreshed_at, c.last_checked_at, c.last_error, c.token_version, c.connected_by, c.created_at, \
                    c.rate_limit_per_second, c.daily_quota, c.search_rate_limit_per_second \
             FROM connections c JOIN environments e ON e.id = c.environment_id ",
            $rest
        )
    };
}

pub async fn list<'c>(exec: impl Exec<'c>, tenant_id: TenantId) -> Result<Vec<StoredConnection>, RepoError> {
    let rows: Vec<ConnectionRow> = sqlx::query_as(select_connections!(
        "WHERE c.tenant_id = $1 ORDER BY e.kind DESC, c.provider"
    ))
    .bind(tenant_id.to_string())
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(StoredConnection::try_from).collect()
}

pub async fn get<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: ConnectionId,
) -> Result<Option<StoredConnection>, RepoError> {
    let row: Option<ConnectionRow> = sqlx::query_as(select_connections!("WHERE c.tenant_id = $1 AND c.id = $2"))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(StoredConnection::try_from).transpose()
}

pub async fn find<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    environment_id: EnvironmentId,
    provider: &str,
) -> Result<Option<StoredConnection>, RepoError> {
    let row: Option<ConnectionRow> = sqlx::query_as(select_connections!(
        "WHERE c.tenant_id = $1 AND c.environment_id = $2 AND c.provider = $3"
    ))
    .bind(tenant_id.to_string())
    .bind(environment_id.to_string())
    .bind(provider)
    .fetch_optional(exec)
    .await?;
    row.map(StoredConnection::try_from).transpose()
}

/// Every tenant's connections to one CRM account (a webhook names the account, not the tenant).
pub async fn by_account<'c>(
    exec: impl Exec<'c>,
    provider: &str,
    account_id: &str,
) -> Result<Vec<StoredConnection>, RepoError> {
    let rows: Vec<ConnectionRow> = sqlx::query_as(select_connections!(
        "WHERE c.provider = $1 AND c.account_id = $2 ORDER BY c.id"
    ))
    .bind(provider)
    .bind(account_id)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(StoredConnection::try_from).collect()
}

/// What a completed authorization establishes.
pub struct Connected<'a> {
    pub id: ConnectionId,
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub provider: &'a str,
    pub target: ConnectionTarget,
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub account_user: Option<&'a str>,
    pub base_url: &'a str,
    pub scopes: &'a str,
    pub access_expires_at: Option<i64>,
    pub connected_by: Option<&'a str>,
    pub now_ms: i64,
}

/// Creates the connection, or (reconnecting) refreshes every field of the existing one and makes
/// it healthy again. Returns the id in use.
pub async fn upsert<'c>(exec: impl Exec<'c>, c: Connected<'_>) -> Result<ConnectionId, RepoError> {
    let id: String = sqlx::query_scalar(
        "INSERT INTO connections (id, tenant_id, environment_id, provider, target, status, account_id, account_name, \
                                  account_user, base_url, scopes, access_expires_at, last_refreshed_at, \
                                  last_checked_at, last_error, token_version, connected_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'healthy', $6, $7, $8, $9, $10, $11, $12, $12, NULL, 1, $13, $12, $12) \
         ON CONFLICT (tenant_id, environment_id, provider) DO UPDATE SET \
           target = excluded.target, status = 'healthy', account_id = excluded.account_id, \
           account_name = excluded.account_name, account_user = excluded.account_user, base_url = excluded.base_url, \
           scopes = excluded.scopes, access_expires_at = excluded.access_expires_at, \
           last_refreshed_at = excluded.last_refreshed_at, last_checked_at = excluded.last_checked_at, \
           last_error = NULL, token_version = connections.token_version + 1, connected_by = excluded.connected_by, \
           updated_at = excluded.updated_at \
         RETURNING id",
    )
    .bind(c.id.to_string())
    .bind(c.tenant_id.to_string())
    .bind(c.environment_id.to_string())
    .bind(c.provider)
    .bind(c.target.as_str())
    .bind(c.account_id)
    .bind(c.account_name)
    .bind(c.account_user)
    .bind(c.base_url)
    .bind(c.scopes)
    .bind(c.access_expires_at)
    .bind(c.now_ms)
    .bind(c.connected_by)
    .fetch_one(exec)
    .await?;
    parse_id(&id, "connection id")
}

/// Claims the right to refresh: bumps the token version only if it is still `expected`. False
/// means another caller (or instance) claimed it first.
pub async fn claim_refresh<'c>(
    exec: impl Exec<'c>,
    id: ConnectionId,
    expected: i64,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let done = sqlx::query(
        "UPDATE connections SET token_version = token_version + 1, updated_at = $1 WHERE id = $2 AND token_version = $3",
    )
    .bind(now_ms)
    .bind(id.to_string())
    .bind(expected)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a successful refresh (the new tokens are already in the vault). The version moves
/// again, so that a caller who read the connection mid-refresh sees that it changed.
pub async fn complete_refresh<'c>(
    exec: impl Exec<'c>,
    id: ConnectionId,
    access_expires_at: Option<i64>,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE connections SET access_expires_at = $1, last_refreshed_at = $2, status = 'healthy', last_error = NULL, \
                token_version = token_version + 1, updated_at = $2 WHERE id = $3",
    )
    .bind(access_expires_at)
    .bind(now_ms)
    .bind(id.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn set_status<'c>(
    exec: impl Exec<'c>,
    id: ConnectionId,
    status: ConnectionStatus,
    last_error: Option<&str>,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE connections SET status = $1, last_error = $2, last_checked_at = $3, updated_at = $3 WHERE id = $4",
    )
    .bind(status.as_str())
    .bind(last_error)
    .bind(now_ms)
    .bind(id.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn delete<'c>(exec: impl Exec<'c>, tenant_id: TenantId, id: ConnectionId) -> Result<bool, RepoError> {
    let done = sqlx::query("DELETE FROM connections WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_limit_overrides<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: ConnectionId,
    overrides: LimitOverrides,
) -> Result<bool, RepoError> {
    let changed = sqlx::query(
        "UPDATE connections SET rate_limit_per_second = $1, daily_quota = $2, search_rate_limit_per_second = $3 \
         WHERE tenant_id = $4 AND id = $5",
    )
    .bind(overrides.requests_per_second)
    .bind(overrides.daily_quota)
    .bind(overrides.search_requests_per_second)
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .execute(exec)
    .await?
    .rows_affected();
    Ok(changed > 0)
}
