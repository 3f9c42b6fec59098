//! The change feed: CRM-side changes for the operator's app, numbered in commit order per
//! environment (the `change_feed` stream of `change_sequences`).

use serde_json::Value;
use tandem_shared::api::changes::{Change, ChangeKind};
use tandem_shared::ids::{EnvironmentId, PipelineId, TenantId};
use tandem_shared::model::AppObject;

use super::{Exec, RepoError, Tx, parse_id, to_datetime};

pub const STREAM: &str = "change_feed";

pub struct NewChange<'a> {
    pub seq: i64,
    pub pipeline_id: PipelineId,
    pub object: AppObject,
    pub external_id: &'a str,
    pub provider: &'a str,
    pub crm_id: &'a str,
    pub change: ChangeKind,
    pub record: &'a Value,
}

/// Inserts feed entries, a hundred per statement.
pub async fn insert_many(
    tx: &mut Tx,
    tenant_id: TenantId,
    environment_id: EnvironmentId,
    changes: &[NewChange<'_>],
    now_ms: i64,
) -> Result<(), RepoError> {
    for chunk in changes.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=11).map(|c| format!("${}", i * 11 + c)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO change_feed (environment_id, seq, tenant_id, pipeline_id, object, external_id, provider, \
                                      crm_id, change, record, created_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for change in chunk {
            query = query
                .bind(environment_id.to_string())
                .bind(change.seq)
                .bind(tenant_id.to_string())
                .bind(change.pipeline_id.to_string())
                .bind(change.object.as_str())
                .bind(change.external_id)
                .bind(change.provider)
                .bind(change.crm_id)
                .bind(change.change.as_str())
                .bind(change.record.to_string())
                .bind(now_ms);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn insert(
    tx: &mut Tx,
    tenant_id: TenantId,
    environment_id: EnvironmentId,
    change: &NewChange<'_>,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO change_feed (environment_id, seq, tenant_id, pipeline_id, object, external_id, provider, crm_id, \
                                  change, record, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(environment_id.to_string())
    .bind(change.seq)
    .bind(tenant_id.to_string())
    .bind(change.pipeline_id.to_string())
    .bind(change.object.as_str())
    .bind(change.external_id)
    .bind(change.provider)
    .bind(change.crm_id)
    .bind(change.change.as_str())
    .bind(change.record.to_string())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    pipeline_id: Option<String>,
    object: String,
    external_id: String,
    provider: String,
    crm_id: String,
    change: String,
    record: String,
    created_at: i64,
}

impl TryFrom<Row> for Change {
    type Error = RepoError;
    fn try_from(row: Row) -> Result<Self, RepoError> {
        Ok(Change {
            cursor: row.seq.to_string(),
            object: AppObject::parse(&row.object)
                .ok_or_else(|| RepoError::Corrupt(format!("object {:?}", row.object)))?,
            external_id: row.external_id,
            provider: row.provider,
            crm_id: row.crm_id,
            change: ChangeKind::parse(&row.change)
                .ok_or_else(|| RepoError::Corrupt(format!("change kind {:?}", row.change)))?,
            record: serde_json::from_str(&row.record).map_err(|e| RepoError::Corrupt(format!("change record: {e}")))?,
            pipeline_id: row.pipeline_id.map(|p| parse_id(&p, "pipeline id")).transpose()?,
            occurred_at: to_datetime(row.created_at),
        })
    }
}

/// Changes after `after`, in order; `object` narrows to one kind of record.
pub async fn after<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    after: i64,
    object: Option<AppObject>,
    limit: i64,
) -> Result<Vec<Change>, RepoError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, pipeline_id, object, external_id, provider, crm_id, change, record, created_at FROM change_feed \
         WHERE environment_id = $1 AND seq > $2 AND ($3 = '' OR object = $3) ORDER BY seq LIMIT $4",
    )
    .bind(environment_id.to_string())
    .bind(after)
    .bind(object.map_or("", AppObject::as_str))
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(Change::try_from).collect()
}

/// One change by its number (for webhook payloads).
pub async fn get<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    seq: i64,
) -> Result<Option<Change>, RepoError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT seq, pipeline_id, object, external_id, provider, crm_id, change, record, created_at FROM change_feed \
         WHERE environment_id = $1 AND seq = $2",
    )
    .bind(environment_id.to_string())
    .bind(seq)
    .fetch_optional(exec)
    .await?;
    row.map(Change::try_from).transpose()
}
