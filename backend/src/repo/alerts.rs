//! Alerts raised for tenants.

use serde_json::Value;
use tandem_shared::api::alerts::Alert;
use tandem_shared::ids::{AlertId, PipelineId, TenantId};

use super::{Exec, RepoError, new_id, parse_id, to_datetime};

pub async fn insert<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    pipeline_id: Option<PipelineId>,
    kind: &str,
    message: &str,
    detail: &Value,
    now_ms: i64,
) -> Result<AlertId, RepoError> {
    let id = AlertId(new_id());
    sqlx::query(
        "INSERT INTO alerts (id, tenant_id, pipeline_id, kind, message, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.to_string())
    .bind(tenant_id.to_string())
    .bind(pipeline_id.map(|p| p.to_string()))
    .bind(kind)
    .bind(message)
    .bind(detail.to_string())
    .bind(now_ms)
    .execute(exec)
    .await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    pipeline_id: Option<String>,
    kind: String,
    message: String,
    detail: String,
    created_at: i64,
    delivered_at: Option<i64>,
    delivery_error: Option<String>,
    acknowledged_at: Option<i64>,
}

impl TryFrom<Row> for Alert {
    type Error = RepoError;
    fn try_from(row: Row) -> Result<Self, RepoError> {
        Ok(Alert {
            id: parse_id(&row.id, "alert id")?,
            pipeline_id: row.pipeline_id.map(|p| parse_id(&p, "pipeline id")).transpose()?,
            kind: row.kind,
            message: row.message,
            detail: serde_json::from_str(&row.detail).map_err(|e| RepoError::Corrupt(format!("alert detail: {e}")))?,
            created_at: to_datetime(row.created_at),
            delivered_at: row.delivered_at.map(to_datetime),
            delivery_error: row.delivery_error,
            acknowledged_at: row.acknowledged_at.map(to_datetime),
        })
    }
}

const COLUMNS: &str =
    "id, pipeline_id, kind, message, detail, created_at, delivered_at, delivery_error, acknowledged_at";

pub async fn list<'c>(exec: impl Exec<'c>, tenant_id: TenantId, limit: i64) -> Result<Vec<Alert>, RepoError> {
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.to_string())
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.into_iter().map(Alert::try_from).collect()
}

pub async fn get<'c>(exec: impl Exec<'c>, tenant_id: TenantId, id: AlertId) -> Result<Option<Alert>, RepoError> {
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE tenant_id = $1 AND id = $2");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(Alert::try_from).transpose()
}

pub async fn acknowledge<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: AlertId,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let changed = sqlx::query(
        "UPDATE alerts SET acknowledged_at = COALESCE(acknowledged_at, $1) WHERE tenant_id = $2 AND id = $3",
    )
    .bind(now_ms)
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .execute(exec)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

pub async fn set_delivery<'c>(
    exec: impl Exec<'c>,
    id: AlertId,
    delivered_at: Option<i64>,
    error: Option<&str>,
) -> Result<(), RepoError> {
    sqlx::query("UPDATE alerts SET delivered_at = $1, delivery_error = $2 WHERE id = $3")
        .bind(delivered_at)
        .bind(error)
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

/// Whether an alert of this kind was raised for the pipeline since `since_ms` (so that a failing
/// pipeline does not raise one per run).
pub async fn recent_exists<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    kind: &str,
    since_ms: i64,
) -> Result<bool, RepoError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alerts WHERE pipeline_id = $1 AND kind = $2 AND created_at >= $3 AND acknowledged_at IS NULL",
    )
    .bind(pipeline_id.to_string())
    .bind(kind)
    .bind(since_ms)
    .fetch_one(exec)
    .await?;
    Ok(count > 0)
}
