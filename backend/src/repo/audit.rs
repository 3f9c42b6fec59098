//! The audit log: append-only, written in the same transaction as the change it describes.

use tandem_shared::api::audit::AuditEntry;
use tandem_shared::ids::{AuditEntryId, TenantId};

use super::{Exec, RepoError, new_id, parse_id, to_datetime};

pub struct NewAuditEntry<'a> {
    pub tenant_id: Option<TenantId>,
    pub actor_kind: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
    pub request_id: Option<&'a str>,
    pub now_ms: i64,
}

pub async fn insert<'c>(exec: impl Exec<'c>, entry: NewAuditEntry<'_>) -> Result<AuditEntryId, RepoError> {
    let id = AuditEntryId(new_id());
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_kind, actor, action, target_kind, target_id, details, \
                                request_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id.to_string())
    .bind(entry.tenant_id.map(|t| t.to_string()))
    .bind(entry.actor_kind)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.target_kind)
    .bind(entry.target_id)
    .bind(entry.details.to_string())
    .bind(entry.request_id)
    .bind(entry.now_ms)
    .execute(exec)
    .await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    tenant_id: Option<String>,
    actor_kind: String,
    actor: String,
    action: String,
    target_kind: String,
    target_id: Option<String>,
    details: String,
    request_id: Option<String>,
    created_at: i64,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = RepoError;
    fn try_from(row: AuditRow) -> Result<Self, RepoError> {
        Ok(AuditEntry {
            id: parse_id(&row.id, "audit entry id")?,
            tenant_id: row.tenant_id.as_deref().map(|t| parse_id(t, "tenant id")).transpose()?,
            actor_kind: row.actor_kind,
            actor: row.actor,
            action: row.action,
            target_kind: row.target_kind,
            target_id: row.target_id,
            details: serde_json::from_str(&row.details)
                .map_err(|e| RepoError::Corrupt(format!("audit details: {e}")))?,
            request_id: row.request_id,
            created_at: to_datetime(row.created_at),
        })
    }
}

/// Whose entries a listing covers.
#[derive(Clone, Copy, Debug)]
pub enum AuditScope {
    Tenant(TenantId),
    Everything,
}

macro_rules! select_audit {
    ($rest:literal) => {
        concat!(
            "SELECT id, tenant_id, actor_kind, actor, action, target_kind, target_id, details, request_id, \
                    created_at FROM audit_log ",
            $rest
        )
    };
}

/// Newest first; `before` continues from the last entry of the previous page.
pub async fn list<'c>(
    exec: impl Exec<'c>,
    scope: AuditScope,
    before: Option<AuditEntryId>,
    limit: i64,
) -> Result<Vec<AuditEntry>, RepoError> {
    // Ids are UUIDv7, so their text sorts by creation time; no generated id equals the max UUID.
    let before = before.map_or(uuid::Uuid::max(), |id| id.as_uuid()).to_string();
    let rows: Vec<AuditRow> = match scope {
        AuditScope::Tenant(tenant_id) => {
            sqlx::query_as(select_audit!(
                "WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
            ))
            .bind(tenant_id.to_string())
            .bind(before)
            .bind(limit)
            .fetch_all(exec)
            .await?
        }
        AuditScope::Everything => {
            sqlx::query_as(select_audit!("WHERE id < $1 ORDER BY id DESC LIMIT $2"))
                .bind(before)
                .bind(limit)
                .fetch_all(exec)
                .await?
        }
    };
    rows.into_iter().map(AuditEntry::try_from).collect()
}
