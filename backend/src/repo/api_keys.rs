//! Tenant API keys. Only the SHA-256 of a key is stored, with a short prefix to recognise it.

use tandem_shared::api::api_keys::ApiKey;
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::{ApiKeyId, EnvironmentId, TenantId};

use super::{Exec, RepoError, parse_id, to_datetime};

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    tenant_id: String,
    environment_id: String,
    environment_kind: String,
    name: String,
    prefix: String,
    created_by: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = RepoError;
    fn try_from(row: ApiKeyRow) -> Result<Self, RepoError> {
        Ok(ApiKey {
            id: parse_id(&row.id, "api key id")?,
            tenant_id: parse_id(&row.tenant_id, "tenant id")?,
            environment_id: parse_id(&row.environment_id, "environment id")?,
            environment: EnvironmentKind::parse(&row.environment_kind)
                .ok_or_else(|| RepoError::Corrupt(format!("unknown environment kind {:?}", row.environment_kind)))?,
            name: row.name,
            prefix: row.prefix,
            created_by: row.created_by,
            created_at: to_datetime(row.created_at),
            last_used_at: row.last_used_at.map(to_datetime),
            revoked_at: row.revoked_at.map(to_datetime),
        })
    }
}

macro_rules! select_keys {
    ($rest:literal) => {
        concat!(
            "SELECT k.id, k.tenant_id, k.environment_id, e.kind AS environment_kind, k.name, k.prefix, \
                    k.created_by, k.created_at, k.last_used_at, k.revoked_at \
             FROM api_keys k JOIN environments e ON e.id = k.environment_id ",
            $rest
        )
    };
}

pub struct NewApiKey<'a> {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub created_by: Option<&'a str>,
    pub created_at_ms: i64,
}

pub async fn insert<'c>(exec: impl Exec<'c>, key: NewApiKey<'_>) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, environment_id, name, prefix, key_hash, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(key.id.to_string())
    .bind(key.tenant_id.to_string())
    .bind(key.environment_id.to_string())
    .bind(key.name)
    .bind(key.prefix)
    .bind(key.key_hash)
    .bind(key.created_by)
    .bind(key.created_at_ms)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn get<'c>(exec: impl Exec<'c>, tenant_id: TenantId, id: ApiKeyId) -> Result<Option<ApiKey>, RepoError> {
    let row: Option<ApiKeyRow> = sqlx::query_as(select_keys!("WHERE k.tenant_id = $1 AND k.id = $2"))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(ApiKey::try_from).transpose()
}

pub async fn list<'c>(exec: impl Exec<'c>, tenant_id: TenantId) -> Result<Vec<ApiKey>, RepoError> {
    let rows: Vec<ApiKeyRow> = sqlx::query_as(select_keys!(
        "WHERE k.tenant_id = $1 ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC"
    ))
    .bind(tenant_id.to_string())
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(ApiKey::try_from).collect()
}

/// The key a bearer token hashes to, with its tenant's name, whether revoked or not.
pub async fn find_by_hash<'c>(exec: impl Exec<'c>, key_hash: &str) -> Result<Option<(ApiKey, String)>, RepoError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        key: ApiKeyRow,
        tenant_name: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT k.id, k.tenant_id, k.environment_id, e.kind AS environment_kind, k.name, k.prefix, \
                k.created_by, k.created_at, k.last_used_at, k.revoked_at, t.name AS tenant_name \
         FROM api_keys k JOIN environments e ON e.id = k.environment_id JOIN tenants t ON t.id = k.tenant_id \
         WHERE k.key_hash = $1",
    )
    .bind(key_hash)
    .fetch_optional(exec)
    .await?;
    row.map(|row| Ok((ApiKey::try_from(row.key)?, row.tenant_name)))
        .transpose()
}

/// Marks a key revoked; false when it does not exist in this tenant or was already revoked.
pub async fn revoke<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: ApiKeyId,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(now_ms)
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(exec)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records use, at most once a minute per key so that busy keys do not write on every request.
pub async fn touch<'c>(exec: impl Exec<'c>, id: ApiKeyId, now_ms: i64) -> Result<(), RepoError> {
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
        .bind(now_ms)
        .bind(id.to_string())
        .bind(now_ms - 60_000)
        .execute(exec)
        .await?;
    Ok(())
}
