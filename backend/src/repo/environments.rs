use tandem_shared::api::tenants::{Environment, EnvironmentKind};
use tandem_shared::ids::{EnvironmentId, TenantId};

use super::{Exec, RepoError, parse_id, to_datetime};

#[derive(sqlx::FromRow)]
struct EnvironmentRow {
    id: String,
    tenant_id: String,
    kind: String,
    name: String,
    created_at: i64,
    active_api_keys: i64,
}

impl TryFrom<EnvironmentRow> for Environment {
    type Error = RepoError;
    fn try_from(row: EnvironmentRow) -> Result<Self, RepoError> {
        Ok(Environment {
            id: parse_id(&row.id, "environment id")?,
            tenant_id: parse_id(&row.tenant_id, "tenant id")?,
            kind: EnvironmentKind::parse(&row.kind)
                .ok_or_else(|| RepoError::Corrupt(format!("unknown environment kind {:?}", row.kind)))?,
            name: row.name,
            active_api_keys: row.active_api_keys,
            created_at: to_datetime(row.created_at),
        })
    }
}

macro_rules! select_environments {
    ($rest:literal) => {
        concat!(
            "SELECT e.id, e.tenant_id, e.kind, e.name, e.created_at, \
               (SELECT COUNT(*) FROM api_keys k WHERE k.environment_id = e.id AND k.revoked_at IS NULL) \
                 AS active_api_keys \
             FROM environments e ",
            $rest
        )
    };
}

pub async fn insert<'c>(
    exec: impl Exec<'c>,
    id: EnvironmentId,
    tenant_id: TenantId,
    kind: EnvironmentKind,
    created_at_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query("INSERT INTO environments (id, tenant_id, kind, name, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.to_string())
        .bind(tenant_id.to_string())
        .bind(kind.as_str())
        .bind(kind.label())
        .bind(created_at_ms)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn list<'c>(exec: impl Exec<'c>, tenant_id: TenantId) -> Result<Vec<Environment>, RepoError> {
    // 'sandbox' sorts after 'production'; show sandbox first, as people work in it first.
    let rows: Vec<EnvironmentRow> = sqlx::query_as(select_environments!("WHERE e.tenant_id = $1 ORDER BY e.kind DESC"))
        .bind(tenant_id.to_string())
        .fetch_all(exec)
        .await?;
    rows.into_iter().map(Environment::try_from).collect()
}

pub async fn get_by_kind<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    kind: EnvironmentKind,
) -> Result<Option<Environment>, RepoError> {
    let row: Option<EnvironmentRow> = sqlx::query_as(select_environments!("WHERE e.tenant_id = $1 AND e.kind = $2"))
        .bind(tenant_id.to_string())
        .bind(kind.as_str())
        .fetch_optional(exec)
        .await?;
    row.map(Environment::try_from).transpose()
}
