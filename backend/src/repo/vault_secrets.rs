//! Rows of sealed secrets. This module stores and fetches bytes; only `vault` can open them.

use tandem_shared::ids::TenantId;

use super::{Exec, RepoError, new_id, parse_id};

/// A sealed value as stored: which key sealed it and nonce || ciphertext.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SealedRow {
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub purpose: String,
    pub key_id: String,
    pub sealed: Vec<u8>,
}

impl SealedRow {
    pub fn tenant(&self) -> Result<TenantId, RepoError> {
        parse_id(&self.tenant_id, "tenant id")
    }
}

pub async fn upsert<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    owner_id: &str,
    purpose: &str,
    key_id: &str,
    sealed: Vec<u8>,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO vault_secrets (id, tenant_id, owner_id, purpose, key_id, sealed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (tenant_id, owner_id, purpose) DO UPDATE SET \
           key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at",
    )
    .bind(new_id().to_string())
    .bind(tenant_id.to_string())
    .bind(owner_id)
    .bind(purpose)
    .bind(key_id)
    .bind(sealed)
    .bind(now_ms)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn get<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    owner_id: &str,
    purpose: &str,
) -> Result<Option<SealedRow>, RepoError> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, owner_id, purpose, key_id, sealed FROM vault_secrets \
         WHERE tenant_id = $1 AND owner_id = $2 AND purpose = $3",
    )
    .bind(tenant_id.to_string())
    .bind(owner_id)
    .bind(purpose)
    .fetch_optional(exec)
    .await?)
}

pub async fn delete_owner<'c>(exec: impl Exec<'c>, tenant_id: TenantId, owner_id: &str) -> Result<u64, RepoError> {
    let done = sqlx::query("DELETE FROM vault_secrets WHERE tenant_id = $1 AND owner_id = $2")
        .bind(tenant_id.to_string())
        .bind(owner_id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected())
}

/// The next rows not sealed with `active_key_id`, for re-encryption.
pub async fn sealed_with_other_keys<'c>(
    exec: impl Exec<'c>,
    active_key_id: &str,
    limit: i64,
) -> Result<Vec<SealedRow>, RepoError> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, owner_id, purpose, key_id, sealed FROM vault_secrets \
         WHERE key_id <> $1 ORDER BY id LIMIT $2",
    )
    .bind(active_key_id)
    .bind(limit)
    .fetch_all(exec)
    .await?)
}

/// Replaces a row's ciphertext only if it still holds exactly what was read (`previous`), so that a
/// value written meanwhile by a running server is never overwritten with stale content.
pub async fn reseal<'c>(
    exec: impl Exec<'c>,
    previous: &SealedRow,
    new_key_id: &str,
    sealed: Vec<u8>,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let done = sqlx::query(
        "UPDATE vault_secrets SET key_id = $1, sealed = $2, updated_at = $3 \
         WHERE id = $4 AND key_id = $5 AND sealed = $6",
    )
    .bind(new_key_id)
    .bind(sealed)
    .bind(now_ms)
    .bind(&previous.id)
    .bind(&previous.key_id)
    .bind(previous.sealed.clone())
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count_by_key<'c>(exec: impl Exec<'c>) -> Result<Vec<(String, i64)>, RepoError> {
    Ok(
        sqlx::query_as("SELECT key_id, COUNT(*) FROM vault_secrets GROUP BY key_id ORDER BY key_id")
            .fetch_all(exec)
            .await?,
    )
}
